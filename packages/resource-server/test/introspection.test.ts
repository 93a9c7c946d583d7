/**
 * Opaque tokens through introspection (RFC 7662, RFC 9701) against a local stub AS that checks
 * the API's private_key_jwt assertion: the answer's checks, the RFC 9701 JWT's checks, the cache
 * (never past the token's exp, inactive answers no longer than cacheSeconds), and 503 when the AS
 * cannot answer.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from 'jose';
import { createResourceServer, type IntrospectionOptions, type ResourceServerOptions } from '../src/index.ts';
import { AUDIENCE, apiRequest, dpopKey, dpopRequest, issuerKey, now } from './support/tokens.ts';
import { startStubIssuer, type StubIssuer } from './support/stub-issuer.ts';
import { refused } from './support/expect.ts';

const key = await dpopKey();
const api = await generateKeyPair('ES256');
const CLIENT_ID = 'api-introspector';
let stub: StubIssuer;

beforeEach(async () => {
  stub = await startStubIssuer(await issuerKey('ES256', 'as-key'));
  stub.client = { clientId: CLIENT_ID, publicKey: api.publicKey };
});
afterEach(() => stub.close());

function server(introspection: Partial<IntrospectionOptions> = {}, options: Partial<ResourceServerOptions> = {}) {
  return createResourceServer({ issuer: stub.issuer, audience: AUDIENCE, introspection: { clientId: CLIENT_ID, privateKey: api.privateKey, ...introspection }, ...options });
}
/** An opaque token (43 base64url characters, like Sekisho's) with the given introspection answer. */
function opaque(answer: Record<string, unknown> = {}): string {
  const token = randomBytes(32).toString('base64url');
  stub.answers.set(token, {
    active: true, iss: stub.issuer, aud: AUDIENCE, client_id: 'client-1', sub: 'user-1', scope: 'accounts',
    token_type: 'DPoP', exp: now() + 300, iat: now(), cnf: { jkt: key.jkt }, ...answer,
  });
  return token;
}
const invalidToken = { error: 'invalid_token', scheme: 'DPoP' } as const;

describe('RFC 7662: introspected opaque tokens', () => {
  it('DP1: a proof replayed at the end of its window, while a slow introspection runs, is refused — the window is checked again when its use is recorded (found in review)', async () => {
    let clock = 0;
    // The introspection takes 2 s on this clock.
    const slow: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (new URL(String(input instanceof Request ? input.url : input)).pathname.includes('introspect')) clock += 2000;
      return response;
    };
    const rs = server({}, { fetch: slow, clockToleranceSeconds: 0, dpop: { iatWindowSeconds: 10 }, now: () => clock } as Partial<ResourceServerOptions>);
    const token = opaque();
    const request = await dpopRequest(token, key);
    const replay = request.clone();
    const iatMs = (JSON.parse(Buffer.from(request.headers.get('dpop')!.split('.')[1]!, 'base64url').toString()) as { iat: number }).iat * 1000;
    clock = iatMs;
    await rs.verify(request);
    // Inside the window when checked (iat + 9 s of 10), past it once the 2 s introspection answered.
    clock = iatMs + 9_000;
    await refused(rs.verify(replay), 'ERR_DPOP_IAT', { error: 'invalid_dpop_proof', scheme: 'DPoP' });
  });

  it('control: an active DPoP-bound answer is accepted; the assertion is private_key_jwt with aud = issuer', async () => {
    const rs = server();
    const access = await rs.verify(await dpopRequest(opaque(), key), { scopes: ['accounts'] });
    assert.equal(stub.lastRefusal, undefined);
    assert.equal(access.token, 'opaque');
    assert.deepEqual(access.binding, { kind: 'dpop', jkt: key.jkt });
    assert.equal(access.claims.client_id, 'client-1');
    assert.equal(access.claims.iss, stub.issuer);
    assert.equal('active' in access.claims, false);
    assert.deepEqual(stub.counts, { discovery: 1, jwks: 0, introspection: 1 });
  });

  it('ERR_TOKEN_INACTIVE: active false, and a token the AS does not know', async () => {
    const rs = server();
    await refused(rs.verify(await dpopRequest(opaque({ active: false }), key)), 'ERR_TOKEN_INACTIVE', invalidToken);
    await refused(rs.verify(await dpopRequest(randomBytes(32).toString('base64url'), key)), 'ERR_TOKEN_INACTIVE', invalidToken);
  });

  it('ERR_WRONG_AUDIENCE, ERR_WRONG_ISSUER, ERR_TOKEN_EXPIRED and ERR_INVALID_TOKEN on an active answer that does not fit', async () => {
    const rs = server();
    await refused(rs.verify(await dpopRequest(opaque({ aud: 'https://other.example/' }), key)), 'ERR_WRONG_AUDIENCE', invalidToken);
    await refused(rs.verify(await dpopRequest(opaque({ aud: undefined }), key)), 'ERR_WRONG_AUDIENCE', invalidToken);
    await refused(rs.verify(await dpopRequest(opaque({ iss: 'https://elsewhere.example' }), key)), 'ERR_WRONG_ISSUER', invalidToken);
    await refused(rs.verify(await dpopRequest(opaque({ exp: now() - 60 }), key)), 'ERR_TOKEN_EXPIRED', invalidToken);
    for (const answer of [{ token_type: 'refresh_token' }, { client_id: undefined }, { exp: undefined }, { scope: 42 }]) {
      await refused(rs.verify(await dpopRequest(opaque(answer), key)), 'ERR_INVALID_TOKEN', invalidToken);
    }
  });

  it('binding applies to introspected tokens: unbound, wrong scheme, wrong proof key; mTLS-bound with its certificate thumbprint', async () => {
    const rs = server();
    await refused(rs.verify(await dpopRequest(opaque({ cnf: undefined }), key)), 'ERR_UNBOUND_TOKEN', invalidToken);
    const t = opaque();
    await refused(rs.verify(apiRequest({ authorization: `Bearer ${t}` })), 'ERR_WRONG_SCHEME', invalidToken);
    await refused(rs.verify(await dpopRequest(t, await dpopKey())), 'ERR_DPOP_KEY_MISMATCH', { error: 'invalid_dpop_proof', scheme: 'DPoP' });
    const mtls = opaque({ cnf: { 'x5t#S256': 'A'.repeat(43) }, token_type: 'Bearer' });
    await refused(rs.verify(apiRequest({ authorization: `Bearer ${mtls}` })), 'ERR_CERTIFICATE_MISSING', { error: 'invalid_token', scheme: 'Bearer' });
  });

  it('ERR_INVALID_TOKEN: an opaque token when no introspection is configured', async () => {
    const rs = createResourceServer({ issuer: stub.issuer, audience: AUDIENCE });
    await refused(rs.verify(await dpopRequest(opaque(), key)), 'ERR_INVALID_TOKEN', invalidToken);
    assert.equal(stub.counts.introspection, 0);
  });

  it('ERR_ISSUER_UNAVAILABLE: the AS answers 500, refuses the API\'s credentials (401), hangs, or is gone', async () => {
    const t = opaque();
    stub.mode = '500';
    await refused(server({ endpoint: `${stub.issuer}/introspect` }).verify(await dpopRequest(t, key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
    stub.mode = 'up';
    const other = await generateKeyPair('ES256');
    const e = await refused(server({ privateKey: other.privateKey }).verify(await dpopRequest(t, key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
    assert.match(String((e.cause as Error).message), /401/);
    stub.mode = 'hang';
    await refused(server({ endpoint: `${stub.issuer}/introspect` }, { fetchTimeoutMs: 300 }).verify(await dpopRequest(t, key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
    const rs = server({ endpoint: `${stub.issuer}/introspect` });
    await stub.close();
    await refused(rs.verify(await dpopRequest(t, key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
  });
});

describe('RFC 9701: signed introspection answers', () => {
  it('control: the JWT answer is verified with the issuer\'s keys and its token_introspection member used', async () => {
    const rs = server({ jwtResponse: true });
    const access = await rs.verify(await dpopRequest(opaque(), key));
    assert.equal(access.token, 'opaque');
    assert.deepEqual(stub.counts, { discovery: 1, jwks: 1, introspection: 1 });
    await refused(rs.verify(await dpopRequest(opaque({ active: false }), key)), 'ERR_TOKEN_INACTIVE', invalidToken);
  });

  it('ERR_ISSUER_UNAVAILABLE: a JWT answer with the wrong typ, aud, iss, signature, or without iat or token_introspection is not used', async () => {
    const impostor = await issuerKey('ES256', 'as-key');
    const cases = [
      { header: { typ: 'JWT' } }, { header: { typ: undefined } }, { payload: { aud: 'someone-else' } }, { payload: { iss: 'https://evil.example' } },
      { payload: { token_introspection: undefined } }, { payload: { iat: undefined } }, { signWith: impostor.privateKey },
    ];
    for (const overrides of cases) {
      stub.jwtAnswerOverrides = overrides;
      await refused(server({ jwtResponse: true }).verify(await dpopRequest(opaque(), key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
    }
  });
});

describe('the introspection cache', () => {
  it('cacheSeconds 0 (default): every request asks the AS', async () => {
    const rs = server();
    const t = opaque();
    for (let i = 0; i < 3; i++) await rs.verify(await dpopRequest(t, key));
    assert.equal(stub.counts.introspection, 3);
  });

  it('an active answer is reused, but never past the token\'s exp (the AS then says inactive)', async () => {
    let clock = Date.now();
    const rs = server({ cacheSeconds: 60 }, { now: () => clock } as Partial<ResourceServerOptions>);
    const t = opaque({ exp: Math.floor(clock / 1000) + 10 });
    await rs.verify(await dpopRequest(t, key));
    await rs.verify(await dpopRequest(t, key));
    assert.equal(stub.counts.introspection, 1, 'the second request was answered from the cache');
    clock += 11_000;
    stub.answers.set(t, { active: false });
    await refused(rs.verify(await dpopRequest(t, key, { iat: Math.floor(clock / 1000) })), 'ERR_TOKEN_INACTIVE', invalidToken);
    assert.equal(stub.counts.introspection, 2, 'the entry ended with the token');
  });

  it('an active answer is reused no longer than cacheSeconds (a revocation shows after that)', async () => {
    let clock = Date.now();
    const rs = server({ cacheSeconds: 5 }, { now: () => clock } as Partial<ResourceServerOptions>);
    const t = opaque();
    await rs.verify(await dpopRequest(t, key));
    stub.answers.set(t, { active: false });
    clock += 4_000;
    await rs.verify(await dpopRequest(t, key, { iat: Math.floor(clock / 1000) }));
    clock += 2_000;
    await refused(rs.verify(await dpopRequest(t, key, { iat: Math.floor(clock / 1000) })), 'ERR_TOKEN_INACTIVE', invalidToken);
    assert.equal(stub.counts.introspection, 2);
  });

  it('an inactive answer is reused for cacheSeconds at most', async () => {
    let clock = Date.now();
    const rs = server({ cacheSeconds: 5 }, { now: () => clock } as Partial<ResourceServerOptions>);
    const t = opaque({ active: false });
    await refused(rs.verify(await dpopRequest(t, key)), 'ERR_TOKEN_INACTIVE', invalidToken);
    await refused(rs.verify(await dpopRequest(t, key)), 'ERR_TOKEN_INACTIVE', invalidToken);
    assert.equal(stub.counts.introspection, 1);
    clock += 6_000;
    await refused(rs.verify(await dpopRequest(t, key, { iat: Math.floor(clock / 1000) })), 'ERR_TOKEN_INACTIVE', invalidToken);
    assert.equal(stub.counts.introspection, 2);
  });

  it('concurrent requests with one token make one call; a failed call is not cached', async () => {
    const rs = server({ cacheSeconds: 60 });
    const t = opaque();
    await Promise.all([0, 1, 2, 3].map(async () => rs.verify(await dpopRequest(t, key))));
    assert.equal(stub.counts.introspection, 1);
    const u = opaque();
    stub.mode = '500';
    await refused(rs.verify(await dpopRequest(u, key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
    stub.mode = 'up';
    await rs.verify(await dpopRequest(u, key));
  });
});
