import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import * as oauth from 'oauth4webapi';
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair } from 'jose';
import { createLogger } from '../shared/logger.ts';
import { grantManagementRoutes, type PresentedToken } from './grant-management-routes.ts';

const NOW = () => Math.floor(Date.now() / 1000);
const QUERY = 'grant_management_query';
const REVOKE = 'grant_management_revoke';
const CERT_C1 = 'x5t-of-client-1-certificate';
const GRANT_BODY = { scopes: [{ scope: 'accounts' }], claims: ['given_name'], authorization_details: [], created_at: 1_700_000_000 };

const clientKey = await generateKeyPair('ES256', { extractable: true });
const otherKey = await generateKeyPair('ES256', { extractable: true });
const clientJkt = await calculateJwkThumbprint(await exportJWK(clientKey.publicKey), 'sha256');

const state = {
  requireNonce: false,
  tokens: new Map<string, PresentedToken>(),
  grants: new Map<string, { clientId: string; body: Record<string, unknown> }>(),
  revoked: [] as Array<{ grantId: string; clientId: string }>,
  looked: [] as string[],
  logLines: [] as string[],
};

function resetState() {
  const exp = NOW() + 600;
  state.requireNonce = false;
  state.revoked = [];
  state.looked = [];
  state.logLines = [];
  state.tokens = new Map<string, PresentedToken>([
    ['dpop-query', { clientId: 'c1', scopes: new Set([QUERY]), jkt: clientJkt, expiresAt: exp }],
    ['dpop-revoke', { clientId: 'c1', scopes: new Set([REVOKE]), jkt: clientJkt, expiresAt: exp }],
    ['dpop-mtls', { clientId: 'c1', scopes: new Set([QUERY]), jkt: clientJkt, x5tS256: CERT_C1, expiresAt: exp }],
    ['mtls-both', { clientId: 'c1', scopes: new Set([QUERY, REVOKE]), x5tS256: CERT_C1, expiresAt: exp }],
    ['plain-bearer', { clientId: 'c1', scopes: new Set([QUERY, REVOKE]), expiresAt: exp }],
    ['expired-dpop', { clientId: 'c1', scopes: new Set([QUERY]), jkt: clientJkt, expiresAt: NOW() - 1 }],
  ]);
  state.grants = new Map([
    ['grant-c1', { clientId: 'c1', body: GRANT_BODY }],
    ['grant-c2', { clientId: 'c2', body: { scopes: [{ scope: 'secret' }] } }],
  ]);
}

let server: http.Server;
let base: string;

before(async () => {
  const app = new Koa();
  // The issuer needs the port, and koa composes its middleware when callback() is called.
  let handler: ReturnType<Koa['callback']> | undefined;
  // Large enough that our own limits, not Node's 431, meet the huge-header cases.
  server = http.createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => handler!(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  app.use(grantManagementRoutes({
    issuer: base,
    mtlsBase: `http://localhost:${(server.address() as AddressInfo).port}`,
    findAccessToken: async (value) => {
      state.looked.push(value);
      if (value === 'token-that-breaks-the-store') throw new Error(`database down while reading ${value}`);
      return state.tokens.get(value);
    },
    // Stands in for the TLS layer: the tests say which certificate "was presented".
    certificateThumbprint: (ctx) => ctx.get('x-test-client-cert') || undefined,
    dpop: {
      unique: (() => {
        const seen = new Set<string>();
        return async (jti: string) => (seen.has(jti) ? false : (seen.add(jti), true));
      })(),
      nonces: {
        required: () => state.requireNonce,
        check: (nonce) => nonce === 'server-nonce-1',
        next: () => 'server-nonce-1',
      },
    },
    grants: {
      read: async (grantId) => {
        if (grantId === 'grant-that-breaks') throw new Error('boom');
        return state.grants.get(grantId);
      },
      revoke: async (grantId, clientId) => {
        state.revoked.push({ grantId, clientId });
        return state.grants.delete(grantId);
      },
    },
    logger: createLogger('debug', {}, (line) => state.logLines.push(line)),
  }));
  app.use((ctx) => { ctx.status = 404; ctx.body = 'fell through'; });
  handler = app.callback();
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(resetState);

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const dpopHandle = () => oauth.DPoP({}, clientKey);

async function proofFor(method: string, url: string, token: string, options: { key?: typeof clientKey; claims?: Record<string, unknown> } = {}) {
  const key = options.key ?? clientKey;
  const claims = { jti: randomUUID(), htm: method, htu: url, iat: NOW(), ath: hash('sha256', token, 'base64url'), ...options.claims };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey) } as never)
    .sign(key.privateKey);
}

async function call(method: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { method, headers, redirect: 'manual' });
  const text = await response.text();
  let body: Record<string, unknown> | undefined;
  try { body = JSON.parse(text) as Record<string, unknown>; } catch { body = undefined; }
  return { status: response.status, headers: response.headers, body, text };
}

/** Sends headers exactly as given, repeated names included (fetch would merge them). */
function rawCall(method: string, path: string, headers: string[]): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    // With raw headers Node adds none of its own, Host included.
    const req = http.request(`${base}${path}`, { method, headers: ['host', new URL(base).host, ...headers] }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

function assertError(res: { status: number; body?: Record<string, unknown> | undefined; headers: Headers }, status: number, error: string) {
  assert.equal(res.status, status);
  assert.equal(res.body?.error, error);
  assert.equal(typeof res.body?.error_description, 'string');
  assert.equal(res.headers.get('cache-control'), 'no-store');
}

describe('Grant Management API with a real client (oauth4webapi)', () => {
  it('GET with a DPoP-bound token returns the grant, not cached', async () => {
    const response = await oauth.protectedResourceRequest('dpop-query', 'GET', new URL(`${base}/grants/grant-c1`), undefined, undefined, { DPoP: dpopHandle(), ...insecure });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await response.json(), GRANT_BODY);
  });

  it('DELETE with a DPoP-bound token revokes the grant (204), after which it is unknown (404)', async () => {
    const handle = dpopHandle();
    const response = await oauth.protectedResourceRequest('dpop-revoke', 'DELETE', new URL(`${base}/grants/grant-c1`), undefined, undefined, { DPoP: handle, ...insecure });
    assert.equal(response.status, 204);
    assert.equal(await response.text(), '');
    assert.deepEqual(state.revoked, [{ grantId: 'grant-c1', clientId: 'c1' }]);
    const again = await oauth.protectedResourceRequest('dpop-revoke', 'DELETE', new URL(`${base}/grants/grant-c1`), undefined, undefined, { DPoP: handle, ...insecure });
    assert.equal(again.status, 404);
    assert.equal(((await again.json()) as { error: string }).error, 'invalid_grant_id');
  });

  it('GET and DELETE with an mTLS-bound token (Bearer scheme) and its certificate', async () => {
    const headers = new Headers({ 'x-test-client-cert': CERT_C1 });
    const got = await oauth.protectedResourceRequest('mtls-both', 'GET', new URL(`${base}/grants/grant-c1`), headers, undefined, insecure);
    assert.equal(got.status, 200);
    assert.deepEqual(await got.json(), GRANT_BODY);
    const deleted = await oauth.protectedResourceRequest('mtls-both', 'DELETE', new URL(`${base}/grants/grant-c1`), headers, undefined, insecure);
    assert.equal(deleted.status, 204);
  });

  it('a token bound both to a key and a certificate needs the proof and the certificate', async () => {
    const url = new URL(`${base}/grants/grant-c1`);
    await assert.rejects(oauth.protectedResourceRequest('dpop-mtls', 'GET', url, undefined, undefined, { DPoP: dpopHandle(), ...insecure }), oauth.WWWAuthenticateChallengeError);
    const ok = await oauth.protectedResourceRequest('dpop-mtls', 'GET', url, new Headers({ 'x-test-client-cert': CERT_C1 }), undefined, { DPoP: dpopHandle(), ...insecure });
    assert.equal(ok.status, 200);
  });

  it('accepts the proof for the mTLS alias URL', async () => {
    const alias = `${base.replace('127.0.0.1', 'localhost')}/grants/grant-c1`;
    const proof = await proofFor('GET', alias, 'dpop-query');
    const res = await call('GET', '/grants/grant-c1', { authorization: 'DPoP dpop-query', dpop: proof });
    assert.equal(res.status, 200);
  });

  it('server nonces: the client is told to use one, retries with it and succeeds', async () => {
    state.requireNonce = true;
    const handle = dpopHandle();
    const url = new URL(`${base}/grants/grant-c1`);
    const err = await oauth.protectedResourceRequest('dpop-query', 'GET', url, undefined, undefined, { DPoP: handle, ...insecure }).then(
      () => assert.fail('expected a use_dpop_nonce challenge'),
      (e: unknown) => e,
    );
    assert.ok(oauth.isDPoPNonceError(err));
    const retried = await oauth.protectedResourceRequest('dpop-query', 'GET', url, undefined, undefined, { DPoP: handle, ...insecure });
    assert.equal(retried.status, 200);
  });

  it('a token without the scope gets 403 insufficient_scope with the scope to ask for', async () => {
    const err = await oauth.protectedResourceRequest('dpop-query', 'DELETE', new URL(`${base}/grants/grant-c1`), undefined, undefined, { DPoP: dpopHandle(), ...insecure }).then(
      () => assert.fail('expected a challenge'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof oauth.WWWAuthenticateChallengeError);
    assert.equal(err.response.status, 403);
    const [challenge] = err.cause;
    assert.equal(challenge?.scheme, 'dpop');
    assert.equal(challenge?.parameters.error, 'insufficient_scope');
    assert.equal(challenge?.parameters.scope, REVOKE);
    assert.equal(state.revoked.length, 0);
  });
});

describe('Grant Management API refusals', () => {
  it('405 with Allow for other methods', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'OPTIONS']) {
      const res = await call(method, '/grants/grant-c1', { authorization: 'Bearer mtls-both', 'x-test-client-cert': CERT_C1 });
      assertError(res, 405, 'invalid_request');
      assert.equal(res.headers.get('allow'), 'GET, DELETE');
    }
    const head = await fetch(`${base}/grants/grant-c1`, { method: 'HEAD' });
    assert.equal(head.status, 405);
    assert.equal(head.headers.get('allow'), 'GET, DELETE');
  });

  it('401 with both challenges and no error code when no token is presented (RFC 6750 §3.1)', async () => {
    for (const headers of [{}, { authorization: 'Basic YTpi' }, { authorization: 'Negotiate' }] as Array<Record<string, string>>) {
      const res = await call('GET', '/grants/grant-c1', headers);
      assertError(res, 401, 'invalid_token');
      assert.equal(res.headers.get('www-authenticate'), 'DPoP algs="PS256 ES256 EdDSA", Bearer');
    }
    assert.deepEqual(state.looked, []);
    // A real client reads both challenges out of that header.
    const err = await oauth.protectedResourceRequest('x', 'GET', new URL(`${base}/grants/grant-c1`), undefined, undefined, {
      ...insecure,
      // The token dropped on the way: the server sees a request without credentials.
      [oauth.customFetch]: (url, init) => fetch(url, { method: init.method, redirect: 'manual' }),
    }).then(() => assert.fail('expected a challenge'), (e: unknown) => e);
    assert.ok(err instanceof oauth.WWWAuthenticateChallengeError);
    assert.deepEqual(err.cause.map((c) => [c.scheme, c.parameters]), [['dpop', { algs: 'PS256 ES256 EdDSA' }], ['bearer', {}]]);
  });

  it('401 invalid_request for a malformed Authorization header, without a lookup', async () => {
    for (const authorization of ['Bearer', 'Bearer ', 'DPoP', 'Bearer a b', 'Bearer a,b', 'Bearer ä', 'DPoP tok"en']) {
      const res = await call('GET', '/grants/grant-c1', { authorization });
      assertError(res, 401, 'invalid_request');
      assert.match(res.headers.get('www-authenticate') ?? '', /^(DPoP|Bearer) error="invalid_request"/);
    }
    const twice = await rawCall('GET', '/grants/grant-c1', ['authorization', 'Bearer mtls-both', 'authorization', 'Bearer mtls-both', 'x-test-client-cert', CERT_C1]);
    assert.equal(twice.status, 401);
    assert.equal(twice.body.error, 'invalid_request');
    assert.deepEqual(state.looked, []);
  });

  it('401 invalid_token for an unknown, expired or unbound token', async () => {
    for (const [authorization, extra] of [['Bearer nope', {}], ['DPoP nope', {}], ['Bearer plain-bearer', { 'x-test-client-cert': CERT_C1 }]] as const) {
      const res = await call('GET', '/grants/grant-c1', { authorization, ...extra });
      assertError(res, 401, 'invalid_token');
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
    const url = `${base}/grants/grant-c1`;
    const expired = await call('GET', '/grants/grant-c1', { authorization: 'DPoP expired-dpop', dpop: await proofFor('GET', url, 'expired-dpop') });
    assertError(expired, 401, 'invalid_token');
    const plainAsDpop = await call('GET', '/grants/grant-c1', { authorization: 'DPoP plain-bearer', dpop: await proofFor('GET', url, 'plain-bearer') });
    assertError(plainAsDpop, 401, 'invalid_token');
  });

  it('401 invalid_token for a DPoP-bound token presented as Bearer, even with a proof', async () => {
    const url = `${base}/grants/grant-c1`;
    const res = await call('GET', '/grants/grant-c1', { authorization: 'Bearer dpop-query', dpop: await proofFor('GET', url, 'dpop-query') });
    assertError(res, 401, 'invalid_token');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
  });

  it('401 invalid_dpop_proof for a DPoP-bound token without a valid proof', async () => {
    const url = `${base}/grants/grant-c1`;
    const cases: Array<Record<string, string>> = [
      {},
      { dpop: 'not-a-jws' },
      { dpop: await proofFor('GET', `${base}/grants/grant-c2`, 'dpop-query') },
      { dpop: await proofFor('DELETE', url, 'dpop-query') },
      { dpop: await proofFor('GET', url, 'another-token') },
      { dpop: await proofFor('GET', url, 'dpop-query', { key: otherKey }) },
      { dpop: await proofFor('GET', url, 'dpop-query', { claims: { ath: undefined } }) },
    ];
    for (const headers of cases) {
      const res = await call('GET', '/grants/grant-c1', { authorization: 'DPoP dpop-query', ...headers });
      assertError(res, 401, 'invalid_dpop_proof');
      assert.match(res.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="PS256 ES256 EdDSA"$/);
    }
    const replayed = await proofFor('GET', url, 'dpop-query');
    assert.equal((await call('GET', '/grants/grant-c1', { authorization: 'DPoP dpop-query', dpop: replayed })).status, 200);
    assertError(await call('GET', '/grants/grant-c1', { authorization: 'DPoP dpop-query', dpop: replayed }), 401, 'invalid_dpop_proof');
    const proof = await proofFor('GET', url, 'dpop-query');
    const twice = await rawCall('GET', '/grants/grant-c1', ['authorization', 'DPoP dpop-query', 'dpop', proof, 'dpop', proof]);
    assert.equal(twice.status, 401);
    assert.equal(twice.body.error, 'invalid_dpop_proof');
  });

  it('401 invalid_token for an mTLS-bound token without its certificate, or with another one', async () => {
    for (const extra of [{}, { 'x-test-client-cert': 'x5t-of-someone-else' }, { 'x-test-client-cert': `${CERT_C1}x` }] as Array<Record<string, string>>) {
      const res = await call('GET', '/grants/grant-c1', { authorization: 'Bearer mtls-both', ...extra });
      assertError(res, 401, 'invalid_token');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    }
    const asDpop = await call('GET', '/grants/grant-c1', { authorization: 'DPoP mtls-both', 'x-test-client-cert': CERT_C1, dpop: await proofFor('GET', `${base}/grants/grant-c1`, 'mtls-both') });
    assertError(asDpop, 401, 'invalid_token');
  });

  it('403 insufficient_scope names the scope needed for GET and for DELETE', async () => {
    state.tokens.set('mtls-none', { clientId: 'c1', scopes: new Set(['openid']), x5tS256: CERT_C1, expiresAt: NOW() + 60 });
    for (const [method, scope] of [['GET', QUERY], ['DELETE', REVOKE]] as const) {
      const res = await call(method, '/grants/grant-c1', { authorization: 'Bearer mtls-none', 'x-test-client-cert': CERT_C1 });
      assertError(res, 403, 'insufficient_scope');
      assert.equal(res.headers.get('www-authenticate'), `Bearer error="insufficient_scope", error_description="the access token lacks the ${scope} scope", scope="${scope}"`);
    }
    assert.equal(state.revoked.length, 0);
  });

  it('403 for another client\'s grant; nothing revoked and nothing of it shown', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await call(method, '/grants/grant-c2', { authorization: 'Bearer mtls-both', 'x-test-client-cert': CERT_C1 });
      assertError(res, 403, 'invalid_grant_id');
      assert.doesNotMatch(res.text, /secret/);
      assert.equal(res.headers.get('www-authenticate'), null);
    }
    assert.equal(state.revoked.length, 0);
    assert.ok(state.grants.has('grant-c2'));
  });

  it('404 invalid_grant_id for an unknown grant', async () => {
    for (const method of ['GET', 'DELETE']) {
      assertError(await call(method, '/grants/unknown-grant', { authorization: 'Bearer mtls-both', 'x-test-client-cert': CERT_C1 }), 404, 'invalid_grant_id');
    }
    assert.equal(state.revoked.length, 0);
  });

  it('404 JSON for malformed ids and other paths under /grants/, before any token lookup', async () => {
    for (const path of ['/grants/', '/grants/a.b', `/grants/${'a'.repeat(101)}`, '/grants/%41bc', '/grants/a%2Fb', '/grants/a/b', '/grants/grant-c1/', '/grants//x', '/grants/a+b', '/grants/a=']) {
      const res = await call('GET', path, { authorization: 'Bearer mtls-both', 'x-test-client-cert': CERT_C1 });
      assert.equal(res.status, 404, path);
      assert.ok(res.body?.error === 'invalid_grant_id' || res.body?.error === 'not_found', path);
    }
    assert.deepEqual(state.looked, []);
    assert.equal((await call('GET', `/grants/${'a'.repeat(100)}`, { authorization: 'Bearer mtls-both', 'x-test-client-cert': CERT_C1 })).body?.error, 'invalid_grant_id');
  });

  it('leaves other paths to the next middleware', async () => {
    for (const path of ['/grants', '/grantsX/a', '/token', '/']) {
      const res = await call('GET', path);
      assert.equal(res.text, 'fell through', path);
    }
  });

  it('huge headers are refused as invalid, not looked up, not a 500', async () => {
    const huge = 'a'.repeat(100_000);
    const res = await call('GET', '/grants/grant-c1', { authorization: `Bearer ${huge}` });
    assertError(res, 401, 'invalid_token');
    assert.deepEqual(state.looked, []);
    const bigProof = await call('GET', '/grants/grant-c1', { authorization: 'DPoP dpop-query', dpop: `${huge}.${huge}.${huge}` });
    assertError(bigProof, 401, 'invalid_dpop_proof');
    const junk = await call('GET', `/grants/grant-c1`, { authorization: 'DPoP dpop-query', dpop: 'e30.e30.e30', 'x-test-client-cert': huge });
    assertError(junk, 401, 'invalid_dpop_proof');
  });

  it('a failing dependency is a 500 server_error without details, and neither token nor proof is logged', async () => {
    const res = await call('GET', '/grants/grant-c1', { authorization: 'Bearer token-that-breaks-the-store' });
    assertError(res, 500, 'server_error');
    assert.doesNotMatch(res.text, /database|breaks/);
    const proof = await proofFor('GET', `${base}/grants/grant-that-breaks`, 'dpop-query');
    const res2 = await call('GET', '/grants/grant-that-breaks', { authorization: 'DPoP dpop-query', dpop: proof });
    assertError(res2, 500, 'server_error');
    assert.doesNotMatch(res2.text, /boom/);
    assert.equal(state.logLines.length, 2);
    for (const line of state.logLines) {
      assert.doesNotMatch(line, /token-that-breaks-the-store|dpop-query|database down/);
      assert.equal(line.includes(proof), false);
    }
  });
});
