import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import * as oauth from 'oauth4webapi';
import { createCookieSessions } from '../src/sessions.ts';
import { createDiscovery } from '../src/discovery.ts';
import { withDpopNonceRetry } from '../src/dpop-nonce.ts';
import { oauthErrorCode } from '../src/error-code.ts';
import { html } from '../src/html.ts';
import { readBody, readForm } from '../src/http-io.ts';
import { checkUrl, insecureFor } from '../src/loopback.ts';
import { listen } from '../src/testing/listen.ts';

/** A response that only collects Set-Cookie lines. */
function cookieJar(): ServerResponse & { cookies: string[] } {
  const cookies: string[] = [];
  return Object.assign({ appendHeader: (_name: string, value: string) => { cookies.push(value); } }, { cookies }) as unknown as ServerResponse & { cookies: string[] };
}
const requestWith = (cookie: string | undefined) => ({ headers: cookie ? { cookie } : {} }) as Parameters<ReturnType<typeof createCookieSessions>['read']>[0];
const valueOf = (setCookie: string) => setCookie.split(';')[0]!;

/** A token endpoint's refusal, as oauth4webapi processes it. */
async function refusal(error: string): Promise<unknown> {
  const as: oauth.AuthorizationServer = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
  const response = new Response(JSON.stringify({ error }), { status: 400, headers: { 'content-type': 'application/json' } });
  return oauth.processClientCredentialsResponse(as, { client_id: 'c' }, response).then(() => assert.fail('accepted'), (err: unknown) => err);
}

describe('example kit', () => {
  it('html: interpolated text is escaped, Html and arrays of it are not, false and null are nothing', () => {
    const inner = html`<b>${'x'}</b>`;
    assert.equal(html`<p title="${'"><script>'}">${'<i>&'}${inner}${[inner, inner]}${false}${null}</p>`.value,
      '<p title="&#34;&#62;&#60;script&#62;">&#60;i&#62;&#38;<b>x</b><b>x</b><b>x</b></p>');
  });

  it('loopback: http only for loopback hosts; no credentials or fragment; the insecure option only for loopback', () => {
    assert.equal(checkUrl('u', 'http://127.0.0.1:4000/x').href, 'http://127.0.0.1:4000/x');
    assert.throws(() => checkUrl('u', 'http://bank.example/'), /https/);
    assert.throws(() => checkUrl('u', 'https://user:pw@bank.example/'), /credentials/);
    assert.throws(() => checkUrl('u', 'https://bank.example/#f'), /fragment/);
    assert.throws(() => checkUrl('u', '/relative'), /absolute/);
    assert.deepEqual(insecureFor('https://bank.example/'), {});
    assert.deepEqual(insecureFor('http://localhost.evil.example/'), {});
    assert.equal(Object.getOwnPropertySymbols(insecureFor('http://[::1]:3000/')).length, 1);
  });

  it('bodies: a form over the limit (declared or streamed) or of another type is not read', async () => {
    const seen: unknown[] = [];
    const server = await listen((req, res) => {
      void (req.url === '/text' ? readBody(req, 10) : readForm(req, 10)).then((v) => { seen.push(v instanceof URLSearchParams ? v.get('a') : v); res.end(); });
    });
    try {
      // duplex: Node's fetch needs it for a streamed body (no Content-Length); TypeScript's RequestInit lacks it.
      const post = (path: string, body: BodyInit, type = 'application/x-www-form-urlencoded') => fetch(`${server.origin}${path}`, { method: 'POST', body, headers: { 'content-type': type }, duplex: 'half' } as RequestInit).then((r) => r.text());
      await post('/form', 'a=1');
      await post('/form', 'a=12345678901');
      await post('/form', '{"a":1}', 'application/json');
      await post('/form', new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('a=123456789012')); c.close(); } }), 'application/x-www-form-urlencoded');
      await post('/text', 'ok');
      assert.deepEqual(seen, ['1', undefined, undefined, undefined, 'ok']);
    } finally {
      await server.close();
    }
  });

  it('cookie sessions: only our signed cookie is read; rotate moves what is held to a new id; the least recently saved goes first', () => {
    const sessions = createCookieSessions<string>({ cookie: 'app-session', secure: true, ttlSeconds: 60, max: 2 });
    const res = cookieJar();
    const first = sessions.ensure(requestWith(undefined), res);
    assert.match(res.cookies[0]!, /^__Host-app-session=[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=60$/);
    const cookie = valueOf(res.cookies[0]!);
    assert.equal(sessions.read(requestWith(cookie))?.id, first.id);
    assert.equal(sessions.read(requestWith(`${cookie}x`)), undefined, 'a changed signature');
    assert.equal(sessions.read(requestWith(cookie.replace('__Host-', ''))), undefined, 'another cookie name');
    assert.ok(sessions.csrfOk(first, first.csrf) && !sessions.csrfOk(first, `${first.csrf}x`) && !sessions.csrfOk(undefined, first.csrf));

    sessions.save(first, 'state-1');
    const rotated = sessions.rotate(res, first);
    assert.equal(rotated.state, 'state-1');
    assert.notEqual(rotated.id, first.id);
    assert.notEqual(rotated.csrf, first.csrf);
    assert.equal(sessions.read(requestWith(cookie))?.state, undefined, 'the old id holds nothing');
    const rotatedCookie = valueOf(res.cookies[1]!);
    assert.equal(sessions.read(requestWith(rotatedCookie))?.state, 'state-1');

    const second = sessions.ensure(requestWith(undefined), res);
    sessions.save(second, 'state-2');
    const third = sessions.ensure(requestWith(undefined), res);
    sessions.save(third, 'state-3');
    assert.equal(sessions.read(requestWith(rotatedCookie))?.state, undefined, 'max 2: the least recently saved ended');
    assert.equal(sessions.read(requestWith(valueOf(res.cookies[3]!)))?.state, 'state-3');

    sessions.end(res, third);
    assert.match(res.cookies.at(-1)!, /^__Host-app-session=; .*Max-Age=0$/);
    assert.equal(sessions.read(requestWith(valueOf(res.cookies[3]!)))?.state, undefined);
  });

  it('discovery: kept once it worked, tried again after a failure; a missing or http endpoint is refused', async () => {
    let requests = 0;
    let metadata: Record<string, unknown> | undefined;
    const server = await listen((_req, res) => {
      requests += 1;
      if (!metadata) { res.writeHead(503); res.end(); return; }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(metadata));
    });
    try {
      const issuer = new URL(server.origin);
      const discover = (endpoints: string[]) => createDiscovery(issuer, { endpoints, missing: () => new Error('missing') });
      const server1 = discover(['token_endpoint']);
      await assert.rejects(server1());
      metadata = { issuer: server.origin, token_endpoint: `${server.origin}/token` };
      assert.equal((await server1()).token_endpoint, `${server.origin}/token`, 'tried again');
      await server1();
      assert.equal(requests, 2, 'kept');
      await assert.rejects(discover(['token_endpoint', 'backchannel_authentication_endpoint'])(), /missing/);
      metadata.token_endpoint = 'http://as.example/token';
      await assert.rejects(discover(['token_endpoint'])(), /https/);
    } finally {
      await server.close();
    }
  });

  it('DPoP nonce: one retry on use_dpop_nonce, none on another refusal; error codes are safe tokens', async () => {
    const nonce = await refusal('use_dpop_nonce');
    let calls = 0;
    assert.equal(await withDpopNonceRetry(async () => { calls += 1; if (calls === 1) throw nonce; return 'ok'; }), 'ok');
    assert.equal(calls, 2);
    calls = 0;
    await assert.rejects(withDpopNonceRetry(async () => { calls += 1; throw nonce; }));
    assert.equal(calls, 2, 'a second refusal is thrown');
    const invalid = await refusal('invalid_client');
    calls = 0;
    await assert.rejects(withDpopNonceRetry(async () => { calls += 1; throw invalid; }));
    assert.equal(calls, 1);
    assert.equal(oauthErrorCode(invalid), 'invalid_client');
    assert.equal(oauthErrorCode(await refusal('bad code\n<script>')), 'invalid_response');
    assert.equal(oauthErrorCode(new TypeError('fetch failed')), 'unreachable');
  });
});
