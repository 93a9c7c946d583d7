import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Context } from 'koa';
import { forwardedHeadersOnlyFromProxies } from './forwarded-headers.ts';

function ctxFrom(remoteAddress: string): Context {
  return { req: { socket: { remoteAddress }, headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', host: 'as.example' } } } as unknown as Context;
}

it('keeps X-Forwarded-* only from trusted proxies', async () => {
  const middleware = forwardedHeadersOnlyFromProxies(['10.0.0.5']);
  const fromProxy = ctxFrom('::ffff:10.0.0.5');
  await middleware(fromProxy, async () => {});
  assert.equal(fromProxy.req.headers['x-forwarded-proto'], 'https');
  const direct = ctxFrom('203.0.113.9');
  await middleware(direct, async () => {});
  assert.equal(direct.req.headers['x-forwarded-proto'], undefined);
  assert.equal(direct.req.headers['x-forwarded-host'], undefined);
  assert.equal(direct.req.headers.host, 'as.example');
});
