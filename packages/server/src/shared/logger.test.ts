import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, redact } from './logger.ts';

it('redacts credentials at any depth and writes one JSON object per line', () => {
  const lines: string[] = [];
  const log = createLogger('info', { svc: 'test' }, (l) => lines.push(l));
  log.debug('hidden');
  log.info('hello', { client_assertion: 'eyJ.secret', nested: { password: 'hunter2', refresh_token: 'rt', ok: 1 }, list: [{ access_token: 'at' }] });
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]!);
  assert.equal(entry.msg, 'hello');
  assert.equal(entry.svc, 'test');
  assert.equal(entry.client_assertion, '[redacted]');
  assert.equal(entry.nested.password, '[redacted]');
  assert.equal(entry.nested.refresh_token, '[redacted]');
  assert.equal(entry.nested.ok, 1);
  assert.equal(entry.list[0].access_token, '[redacted]');
  assert.doesNotMatch(lines[0]!, /hunter2|eyJ\.secret/);
});

it('redacts private JWK members', () => {
  assert.deepEqual(redact({ kty: 'EC', d: 'secret', x: 'pub' }), { kty: 'EC', d: '[redacted]', x: 'pub' });
});
