/**
 * The issuer's keys from discovery and its JWKS, against a local stub issuer: fetched once and
 * reused, refetched when a token names an unknown kid (at most once per cooldown), and an issuer
 * that cannot be reached is 503 ERR_ISSUER_UNAVAILABLE — never a 401 that blames the token.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createResourceServer, type ResourceServerOptions } from '../src/index.ts';
import { AUDIENCE, accessToken, dpopKey, dpopRequest, issuerKey, type IssuerKeyPair } from './support/tokens.ts';
import { startStubIssuer, type StubIssuer } from './support/stub-issuer.ts';
import { refused } from './support/expect.ts';

const key = await dpopKey();
let stub: StubIssuer;
let first: IssuerKeyPair;

beforeEach(async () => {
  first = await issuerKey('ES256', 'first');
  stub = await startStubIssuer(first);
});
afterEach(() => stub.close());

const server = (options: Partial<ResourceServerOptions> = {}) => createResourceServer({ issuer: stub.issuer, audience: AUDIENCE, ...options });
const token = (signer: IssuerKeyPair, claims: Record<string, unknown> = {}) => accessToken(signer, { iss: stub.issuer, cnf: { jkt: key.jkt }, ...claims });
const invalidToken = { error: 'invalid_token', scheme: 'DPoP' } as const;

describe('JWKS from discovery, cached, refreshed on an unknown kid', () => {
  it('discovery and the JWKS are fetched once for many tokens', async () => {
    const rs = server();
    for (let i = 0; i < 3; i++) await rs.verify(await dpopRequest(await token(first), key));
    assert.deepEqual(stub.counts, { discovery: 1, jwks: 1, introspection: 0 });
  });

  it('a key rotated in after the first fetch is found by one refetch on its unknown kid', async () => {
    const rs = server();
    await rs.verify(await dpopRequest(await token(first), key));
    const second = await issuerKey('ES256', 'second');
    stub.keys = [first.publicJwk, second.publicJwk];
    await rs.verify(await dpopRequest(await token(second), key));
    assert.equal(stub.counts.jwks, 2);
  });

  it('ERR_INVALID_TOKEN: a kid the issuer does not have, after one refetch; more unknown kids within the cooldown fetch nothing', async () => {
    const rs = server();
    await rs.verify(await dpopRequest(await token(first), key));
    const stranger = await issuerKey('ES256', 'stranger');
    await refused(rs.verify(await dpopRequest(await token(stranger), key)), 'ERR_INVALID_TOKEN', invalidToken);
    assert.equal(stub.counts.jwks, 2);
    for (let i = 0; i < 5; i++) {
      const junk = await issuerKey('ES256', `junk-${i}`);
      await refused(rs.verify(await dpopRequest(await token(junk), key)), 'ERR_INVALID_TOKEN', invalidToken);
    }
    assert.equal(stub.counts.jwks, 2, 'the cooldown holds');
  });

  it('ERR_INVALID_TOKEN: a remembered token signed by a key the issuer has since withdrawn is refused once the key set is past its age (found in review)', async () => {
    let clock = Date.now();
    const rs = server({ jwksMaxAgeSeconds: 60, now: () => clock } as Partial<ResourceServerOptions>);
    const withdrawn = await token(first, { exp: Math.floor(clock / 1000) + 24 * 3600 });
    await rs.verify(await dpopRequest(withdrawn, key));
    await rs.verify(await dpopRequest(withdrawn, key));
    const second = await issuerKey('ES256', 'second');
    stub.keys = [second.publicJwk];
    // Within the set's age the remembered verdict stands (nothing is fetched per request) …
    clock += 30_000;
    await rs.verify(await dpopRequest(withdrawn, key));
    assert.equal(stub.counts.jwks, 1);
    // … past it, the set is fetched again, and the withdrawn key's token is verified again and refused.
    clock += 31_000;
    await refused(rs.verify(await dpopRequest(withdrawn, key)), 'ERR_INVALID_TOKEN', invalidToken);
    assert.ok(stub.counts.jwks >= 2);
  });

  it('a token from another issuer never makes the API fetch keys (ERR_WRONG_ISSUER before any key lookup)', async () => {
    const rs = server();
    await refused(rs.verify(await dpopRequest(await token(first, { iss: 'https://elsewhere.example' }), key)), 'ERR_WRONG_ISSUER', invalidToken);
    assert.deepEqual(stub.counts, { discovery: 0, jwks: 0, introspection: 0 });
  });

  it('a key removed from the JWKS stops verifying tokens already verified with it (the verified-token memory follows the key set)', async () => {
    const rs = server({ jwksMaxAgeSeconds: 0, jwksCooldownSeconds: 0 });
    const t = await token(first);
    await rs.verify(await dpopRequest(t, key));
    const second = await issuerKey('ES256', 'second');
    stub.keys = [second.publicJwk];
    await refused(rs.verify(await dpopRequest(t, key)), 'ERR_INVALID_TOKEN', invalidToken);
  });

  it('jwksUri skips discovery; inline jwks fetch nothing at all', async () => {
    const direct = server({ jwksUri: `${stub.issuer}/jwks` });
    await direct.verify(await dpopRequest(await token(first), key));
    assert.deepEqual(stub.counts, { discovery: 0, jwks: 1, introspection: 0 });
    const inline = server({ jwks: { keys: [first.publicJwk as never] } });
    await inline.verify(await dpopRequest(await token(first), key));
    assert.deepEqual(stub.counts, { discovery: 0, jwks: 1, introspection: 0 });
  });
});

describe('an unreachable issuer is 503 ERR_ISSUER_UNAVAILABLE (with Retry-After), not 401', () => {
  it('ERR_ISSUER_UNAVAILABLE: the issuer answers 500', async () => {
    stub.mode = '500';
    const e = await refused(server().verify(await dpopRequest(await token(first), key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503, error: undefined });
    assert.equal(e.headers['retry-after'], '5');
    const response = server().errorResponse(e);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
  });

  it('ERR_ISSUER_UNAVAILABLE: nothing listens any more', async () => {
    const rs = server();
    await stub.close();
    await refused(rs.verify(await dpopRequest(await token(first), key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
  });

  it('ERR_ISSUER_UNAVAILABLE: the issuer hangs (fetchTimeoutMs), and the next request within two seconds does not wait again', async () => {
    stub.mode = 'hang';
    const rs = server({ fetchTimeoutMs: 300 });
    await refused(rs.verify(await dpopRequest(await token(first), key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
    const before = stub.counts.discovery;
    await refused(rs.verify(await dpopRequest(await token(first), key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
    assert.equal(stub.counts.discovery, before);
  });

  it('ERR_ISSUER_UNAVAILABLE: discovery names another issuer (RFC 8414 §3.3), or the JWKS is not a JWK Set', async () => {
    const wrong = createResourceServer({ issuer: `${stub.issuer}/`, audience: AUDIENCE });
    await refused(wrong.verify(await dpopRequest(await token(first, { iss: `${stub.issuer}/` }), key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
    stub.keys = 'nope' as never;
    await refused(server().verify(await dpopRequest(await token(first), key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
  });

  it('keys already fetched keep verifying while the issuer is down; an unknown kid then is 503 (it may be a new key)', async () => {
    const rs = server();
    await rs.verify(await dpopRequest(await token(first), key));
    stub.mode = '500';
    await rs.verify(await dpopRequest(await token(first), key));
    const newer = await issuerKey('ES256', 'newer');
    await refused(rs.verify(await dpopRequest(await token(newer), key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
  });
});
