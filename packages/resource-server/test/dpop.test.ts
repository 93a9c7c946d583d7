/**
 * DPoP at the resource server: every failure case of fapi2.md DP1–DP3, named by rule and by the
 * error code it expects, each beside a control that passes. Proofs are made with jose (to vary one
 * property at a time) and with oauth4webapi's DPoP() handle (a real client, which also parses the
 * WWW-Authenticate answers and retries on use_dpop_nonce).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair as joseGenerateKeyPair, exportJWK, base64url } from 'jose';
import * as oauth from 'oauth4webapi';
import { createDpopNonces, createMemoryReplayStore, createResourceServer, type ResourceServerOptions } from '../src/index.ts';
import { AUDIENCE, ISSUER, API_URL, accessToken, apiRequest, dpopKey, dpopRequest, issuerKey, now, proof, type DpopKey, type IssuerKeyPair } from './support/tokens.ts';
import { refused, ALGS } from './support/expect.ts';
import { clientRequest } from './support/oauth-client.ts';

const issuer = await issuerKey();
const key = await dpopKey();

function server(options: Partial<ResourceServerOptions> = {}) {
  return createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [issuer.publicJwk as never] }, ...options });
}
const bound = (k: DpopKey = key, extra: Record<string, unknown> = {}, signer: IssuerKeyPair = issuer) => accessToken(signer, { cnf: { jkt: k.jkt }, ...extra });
const invalidProof = { error: 'invalid_dpop_proof', scheme: 'DPoP' } as const;

describe('DP1: a proof is a dpop+jwt JWT with an allowed alg, a public jwk and jti htm htu iat ath', () => {
  const rs = server();

  it('control: a well-formed proof for this request is accepted', async () => {
    const token = await bound();
    const access = await rs.verify(await dpopRequest(token, key), { scopes: ['accounts'] });
    assert.deepEqual(access.binding, { kind: 'dpop', jkt: key.jkt });
    assert.equal(access.token, 'jwt');
    assert.equal(access.claims.sub, 'user-1');
    assert.deepEqual(access.scopes, ['accounts', 'payments']);
  });

  it('control: proofs signed with PS256 and EdDSA keys are accepted', async () => {
    for (const alg of ['PS256', 'EdDSA'] as const) {
      const k = await dpopKey(alg);
      const access = await rs.verify(await dpopRequest(await bound(k), k));
      assert.equal(access.binding.kind === 'dpop' && access.binding.jkt, k.jkt, alg);
    }
  });

  it('DP1 ERR_DPOP_PROOF_INVALID: typ other than dpop+jwt (jwt, absent)', async () => {
    const token = await bound();
    for (const typ of ['jwt', 'at+jwt', undefined]) {
      const e = await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, {}, { typ }) })), 'ERR_DPOP_PROOF_INVALID', invalidProof);
      assert.equal(e.headers['www-authenticate'], `DPoP error="invalid_dpop_proof", error_description="The DPoP proof is malformed or its signature is invalid", ${ALGS}`);
    }
  });

  it('DP1 ERR_DPOP_PROOF_INVALID: alg outside the allow-list (RS256; ES384 when only ES256 is allowed; none)', async () => {
    const rsa = await joseGenerateKeyPair('RS256', { extractable: true });
    const rsaKey: DpopKey = { ...key, privateKey: rsa.privateKey, publicKey: rsa.publicKey, publicJwk: await exportJWK(rsa.publicKey) };
    const token = await bound();
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(rsaKey, token, {}, { alg: 'RS256' }) })), 'ERR_DPOP_PROOF_INVALID', invalidProof);

    const p384 = await joseGenerateKeyPair('ES384', { extractable: true });
    const k384: DpopKey = { ...key, privateKey: p384.privateKey, publicKey: p384.publicKey, publicJwk: await exportJWK(p384.publicKey) };
    const strict = server({ algorithms: ['ES256'] });
    await refused(strict.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(k384, token, {}, { alg: 'ES384' }) })), 'ERR_DPOP_PROOF_INVALID', { error: 'invalid_dpop_proof' });

    const header = base64url.encode(JSON.stringify({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk }));
    const payload = base64url.encode(JSON.stringify({ jti: 'x', htm: 'GET', htu: API_URL, iat: now() }));
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: `${header}.${payload}.` })), 'ERR_DPOP_PROOF_INVALID', invalidProof);
  });

  it('DP1 ERR_DPOP_PROOF_INVALID: a private key in the jwk (d), a symmetric jwk, no jwk', async () => {
    const token = await bound();
    const privateJwk = await exportJWK(key.privateKey);
    assert.ok(privateJwk.d, 'the test jwk carries d');
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, {}, { jwk: privateJwk }) })), 'ERR_DPOP_PROOF_INVALID', invalidProof);
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, {}, { jwk: { kty: 'oct', k: 'c2VjcmV0' } }) })), 'ERR_DPOP_PROOF_INVALID', invalidProof);
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, {}, { jwk: undefined }) })), 'ERR_DPOP_PROOF_INVALID', invalidProof);
  });

  it('DP1 ERR_DPOP_PROOF_INVALID: each of jti, htm, htu, iat and ath missing', async () => {
    const token = await bound();
    for (const claim of ['jti', 'htm', 'htu', 'iat', 'ath']) {
      await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, { [claim]: undefined }) })), 'ERR_DPOP_PROOF_INVALID', invalidProof);
    }
  });

  it('DP1 ERR_DPOP_PROOF_INVALID: a signature by another key than the jwk; a proof that is not a JWT', async () => {
    const token = await bound();
    const other = await dpopKey();
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, {}, {}, other.privateKey) })), 'ERR_DPOP_PROOF_INVALID', invalidProof);
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: 'not-a-jwt' })), 'ERR_DPOP_PROOF_INVALID', invalidProof);
  });

  it('DP1 ERR_DPOP_PROOF_INVALID: two DPoP headers', async () => {
    const token = await bound();
    const request = apiRequest([['authorization', `DPoP ${token}`], ['dpop', await proof(key, token)], ['dpop', await proof(key, token)]]);
    await refused(rs.verify(request), 'ERR_DPOP_PROOF_INVALID', invalidProof);
  });

  it('DP1 ERR_DPOP_PROOF_MISSING: a DPoP-bound token without a proof', async () => {
    const e = await refused(rs.verify(apiRequest({ authorization: `DPoP ${await bound()}` })), 'ERR_DPOP_PROOF_MISSING', invalidProof);
    assert.equal(e.headers['www-authenticate'], `DPoP error="invalid_dpop_proof", error_description="A DPoP proof is required", ${ALGS}`);
  });

  it('DP1 ERR_DPOP_HTM_MISMATCH: the proof names another method', async () => {
    const token = await bound();
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, { htm: 'POST' }) })), 'ERR_DPOP_HTM_MISMATCH', invalidProof);
    // Method names are case-sensitive (RFC 9110 §9.1).
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, { htm: 'get' }) })), 'ERR_DPOP_HTM_MISMATCH', invalidProof);
  });

  it('DP1 ERR_DPOP_HTU_MISMATCH: the proof names another path, host or scheme', async () => {
    const token = await bound();
    for (const htu of ['https://api.example.com/payments', 'https://evil.example.com/accounts', 'http://api.example.com/accounts', 'https://api.example.com/Accounts', 'not a url']) {
      await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, { htu }) })), 'ERR_DPOP_HTU_MISMATCH', invalidProof);
    }
  });

  it('DP1 ERR_DPOP_IAT: iat beyond the window in the past, or beyond the tolerance in the future; inside both is fine', async () => {
    const token = await bound();
    await refused(rs.verify(await dpopRequest(token, key, { iat: now() - 120 })), 'ERR_DPOP_IAT', invalidProof);
    await refused(rs.verify(await dpopRequest(token, key, { iat: now() + 30 })), 'ERR_DPOP_IAT', invalidProof);
    await rs.verify(await dpopRequest(token, key, { iat: now() - 50 }));
    await rs.verify(await dpopRequest(token, key, { iat: now() + 3 }));
    const narrow = server({ dpop: { iatWindowSeconds: 10 } });
    await refused(narrow.verify(await dpopRequest(token, key, { iat: now() - 30 })), 'ERR_DPOP_IAT', invalidProof);
  });

  it('DP1 ERR_DPOP_ATH_MISMATCH: the proof was made for another access token', async () => {
    const token = await bound();
    const other = await bound();
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, other) })), 'ERR_DPOP_ATH_MISMATCH', invalidProof);
  });

  it('DP1 ERR_DPOP_KEY_MISMATCH: a valid proof by a key other than cnf.jkt', async () => {
    const token = await bound();
    const other = await dpopKey();
    const e = await refused(rs.verify(await dpopRequest(token, other)), 'ERR_DPOP_KEY_MISMATCH', invalidProof);
    assert.match(e.headers['www-authenticate']!, /error_description="The DPoP proof key is not the key the access token is bound to"/);
  });

  it('DP1 ERR_DPOP_REPLAY: the same proof twice; the same jti from another key is another proof', async () => {
    const token = await bound();
    const request = await dpopRequest(token, key, { jti: 'jti-1' });
    await rs.verify(request);
    await refused(rs.verify(request.clone()), 'ERR_DPOP_REPLAY', invalidProof);
    const other = await dpopKey();
    await rs.verify(await dpopRequest(await bound(other), other, { jti: 'jti-1' }));
  });

  it('DP1 ERR_DPOP_REPLAY: a shared replay store catches a proof replayed to another instance', async () => {
    const replayStore = createMemoryReplayStore();
    const a = server({ dpop: { replayStore } });
    const b = server({ dpop: { replayStore } });
    const request = await dpopRequest(await bound(), key);
    await a.verify(request);
    await refused(b.verify(request.clone()), 'ERR_DPOP_REPLAY', invalidProof);
  });

  it('DP1 ERR_DPOP_REPLAY: a proof is spent once it authenticated a request, even one then refused for its scope', async () => {
    const token = await bound();
    const request = await dpopRequest(token, key);
    const e = await refused(rs.verify(request, { scopes: ['admin'] }), 'ERR_INSUFFICIENT_SCOPE', { scheme: 'DPoP' });
    assert.match(e.headers['www-authenticate']!, /scope="admin"/);
    await refused(rs.verify(request.clone(), { scopes: ['accounts'] }), 'ERR_DPOP_REPLAY', invalidProof);
  });

  it('DP1: a proof refused before its signature was checked is not remembered (a forged jti cannot block the real one)', async () => {
    const token = await bound();
    const other = await dpopKey();
    // Signed by another key but carrying `key`'s jwk and the jti the client will use next.
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, { jti: 'next-jti' }, {}, other.privateKey) })), 'ERR_DPOP_PROOF_INVALID', invalidProof);
    await rs.verify(await dpopRequest(token, key, { jti: 'next-jti' }));
  });

  it('DP1 with oauth4webapi: its proofs are accepted, and its second request (a fresh proof) too', async () => {
    const token = await bound();
    const keyPair = { privateKey: key.privateKey, publicKey: key.publicKey };
    const dpop = oauth.DPoP({}, keyPair);
    assert.equal(await dpop.calculateThumbprint(), key.jkt);
    const first = await clientRequest(rs, token, dpop, { method: 'POST', url: `${API_URL}?from=2024-01-01#frag` });
    assert.equal(first.response.status, 200, first.error?.code);
    const second = await clientRequest(rs, token, dpop, { method: 'POST', url: `${API_URL}?from=2024-01-01#frag` });
    assert.equal(second.response.status, 200, second.error?.code);
  });

  it('DP1 with oauth4webapi ERR_DPOP_KEY_MISMATCH / ERR_DPOP_HTU_MISMATCH: its challenges parse as invalid_dpop_proof with algs', async () => {
    const token = await bound();
    const otherPair = await oauth.generateKeyPair('ES256');
    const wrongKey = await clientRequest(rs, token, oauth.DPoP({}, otherPair));
    assert.equal(wrongKey.error?.code, 'ERR_DPOP_KEY_MISMATCH');
    assert.equal(wrongKey.response.status, 401);
    assert.equal(wrongKey.challenges[0]?.scheme, 'dpop');
    assert.equal(wrongKey.challenges[0]?.parameters.error, 'invalid_dpop_proof');
    assert.equal(wrongKey.challenges[0]?.parameters.algs, 'PS256 ES256 EdDSA');

    // The proof names https://api.example.com/accounts, the API sees another URL.
    const keyPair = { privateKey: key.privateKey, publicKey: key.publicKey };
    const elsewhere = createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [issuer.publicJwk as never] }, publicUrl: 'https://other.example.com' });
    const wrongUrl = await clientRequest(elsewhere, token, oauth.DPoP({}, keyPair));
    assert.equal(wrongUrl.error?.code, 'ERR_DPOP_HTU_MISMATCH');
    assert.equal(wrongUrl.challenges[0]?.parameters.error, 'invalid_dpop_proof');
  });

  it('DP1 with oauth4webapi ERR_DPOP_REPLAY: the same oauth4webapi request sent twice', async () => {
    const token = await bound();
    const call = await clientRequest(rs, token, oauth.DPoP({}, { privateKey: key.privateKey, publicKey: key.publicKey }));
    assert.equal(call.response.status, 200);
    await refused(rs.verify(call.requests[0]!.clone()), 'ERR_DPOP_REPLAY', invalidProof);
  });
});

describe('DP2: htu ignores query and fragment; scheme and host compare case-insensitively', () => {
  const rs = server();

  it('DP2: a proof whose htu carries a query and a fragment matches the request without them, and vice versa', async () => {
    const token = await bound();
    await rs.verify(await dpopRequest(token, key, { htu: `${API_URL}?a=1#x` }));
    const request = apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token) }, `${API_URL}?page=2`);
    await rs.verify(request);
  });

  it('DP2: scheme and host in upper case, the default port, percent-encoding differences and dot-segments still match', async () => {
    const token = await bound();
    for (const htu of ['HTTPS://API.EXAMPLE.COM/accounts', 'https://api.example.com:443/accounts', 'https://api.example.com/%61ccounts', 'https://api.example.com/x/../accounts']) {
      await rs.verify(await dpopRequest(token, key, { htu }));
    }
    const encoded = apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, { htu: 'https://api.example.com/a%2fb' }) }, 'https://api.example.com/a%2Fb');
    await rs.verify(encoded);
  });

  it('DP2 ERR_DPOP_HTU_MISMATCH: a non-default port, or a path differing in case, does not match', async () => {
    const token = await bound();
    await refused(rs.verify(await dpopRequest(token, key, { htu: 'https://api.example.com:8443/accounts' })), 'ERR_DPOP_HTU_MISMATCH', invalidProof);
    await refused(rs.verify(await dpopRequest(token, key, { htu: 'https://api.example.com/ACCOUNTS' })), 'ERR_DPOP_HTU_MISMATCH', invalidProof);
    await refused(rs.verify(await dpopRequest(token, key, { htu: 'https://user:pw@api.example.com/accounts' })), 'ERR_DPOP_HTU_MISMATCH', invalidProof);
  });

  it('DP2 behind a proxy: with publicUrl the proof names the public URL, not the one the API process sees', async () => {
    const proxied = server({ publicUrl: 'https://api.example.com' });
    const token = await bound();
    const internal = 'http://10.0.0.7:8080/accounts';
    await proxied.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token) }, internal));
    await refused(proxied.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, { htu: internal }) }, internal)), 'ERR_DPOP_HTU_MISMATCH', invalidProof);
  });
});

describe('DP3: server nonces (use_dpop_nonce + DPoP-Nonce), shared by every instance that shares the secret', () => {
  const secret = 'an-api-nonce-secret-of-at-least-32-bytes!';

  it('DP3 ERR_DPOP_NONCE: no nonce → 401 use_dpop_nonce with a DPoP-Nonce header; with it → accepted, and the answer carries a nonce', async () => {
    const rs = server({ dpop: { nonces: createDpopNonces({ secret }) } });
    const token = await bound();
    const e = await refused(rs.verify(await dpopRequest(token, key)), 'ERR_DPOP_NONCE', { error: 'use_dpop_nonce', scheme: 'DPoP' });
    const nonce = e.headers['dpop-nonce'];
    assert.match(nonce ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(e.headers['www-authenticate'], `DPoP error="use_dpop_nonce", error_description="A current DPoP nonce is required", ${ALGS}`);
    const response = rs.errorResponse(e);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('dpop-nonce'), nonce);
    const access = await rs.verify(await dpopRequest(token, key, { nonce }));
    assert.equal(access.responseHeaders['dpop-nonce'], nonce);
  });

  it('DP3 ERR_DPOP_NONCE: a nonce two windows old, or made with another secret, is refused', async () => {
    let clock = Date.now();
    const nonces = createDpopNonces({ secret, lifetimeSeconds: 60, now: () => clock });
    const rs = server({ dpop: { nonces } });
    const token = await bound();
    const old = await nonces.current();
    clock += 60_000;
    await rs.verify(await dpopRequest(token, key, { nonce: old }));
    clock += 60_000;
    const e = await refused(rs.verify(await dpopRequest(token, key, { nonce: old })), 'ERR_DPOP_NONCE', { error: 'use_dpop_nonce', scheme: 'DPoP' });
    assert.notEqual(e.headers['dpop-nonce'], old);
    const foreign = await createDpopNonces({ secret: `${secret}-other` }).current();
    await refused(rs.verify(await dpopRequest(token, key, { nonce: foreign })), 'ERR_DPOP_NONCE', { error: 'use_dpop_nonce' });
  });

  it('DP3: two instances sharing the secret accept each other\'s nonces', async () => {
    const a = server({ dpop: { nonces: createDpopNonces({ secret }) } });
    const b = server({ dpop: { nonces: createDpopNonces({ secret }) } });
    const token = await bound();
    const e = await refused(a.verify(await dpopRequest(token, key)), 'ERR_DPOP_NONCE', { error: 'use_dpop_nonce' });
    await b.verify(await dpopRequest(token, key, { nonce: e.headers['dpop-nonce'] }));
  });

  it('DP3 with oauth4webapi: the client learns the nonce from the 401 and its retry is accepted', async () => {
    const rs = server({ dpop: { nonces: createDpopNonces({ secret }) } });
    const dpop = oauth.DPoP({}, { privateKey: key.privateKey, publicKey: key.publicKey });
    const call = await clientRequest(rs, await bound(), dpop, { retryNonce: true });
    assert.equal(call.requests.length, 2);
    assert.equal(call.response.status, 200, call.error?.code);
    const [first, second] = call.requests.map((r) => JSON.parse(new TextDecoder().decode(base64url.decode(r.headers.get('dpop')!.split('.')[1]!))) as { nonce?: string });
    assert.equal(first!.nonce, undefined);
    assert.match(second!.nonce ?? '', /^[A-Za-z0-9_-]{43}$/);
  });

  it('DP3: createDpopNonces refuses a short secret', () => {
    assert.throws(() => createDpopNonces({ secret: 'short' }), /at least 32 bytes/);
  });
});

describe('replay store', () => {
  it('remembers a key until it expires, then forgets it', () => {
    let clock = 1_000_000;
    const store = createMemoryReplayStore({ now: () => clock });
    assert.equal(store.firstUse('a', clock + 1000), true);
    assert.equal(store.firstUse('a', clock + 1000), false);
    clock += 1001;
    assert.equal(store.firstUse('a', clock + 1000), true);
  });

  it('stays within maxEntries, sweeping expired entries first', () => {
    let clock = 1_000_000;
    const store = createMemoryReplayStore({ maxEntries: 3, now: () => clock });
    store.firstUse('a', clock + 10);
    store.firstUse('b', clock + 10);
    clock += 20;
    store.firstUse('c', clock + 1000);
    store.firstUse('d', clock + 1000);
    store.firstUse('e', clock + 1000);
    assert.ok(store.size <= 3);
    assert.equal(store.firstUse('e', clock + 1000), false);
  });

  it('a store that throws makes the request 503, not 401 and not an accepted replay', async () => {
    const rs = server({ dpop: { replayStore: { firstUse: () => { throw new Error('redis down'); } } } });
    const e = await refused(rs.verify(await dpopRequest(await bound(), key)), 'ERR_ISSUER_UNAVAILABLE', { status: 503 });
    assert.equal((e.cause as Error).message, 'redis down');
  });

  it('an asynchronous store (a Redis SET NX stand-in) is awaited', async () => {
    const seen = new Set<string>();
    const rs = server({ dpop: { replayStore: { firstUse: async (k) => { await new Promise((r) => setTimeout(r, 1)); if (seen.has(k)) return false; seen.add(k); return true; } } } });
    const request = await dpopRequest(await bound(), key);
    await rs.verify(request);
    await refused(rs.verify(request.clone()), 'ERR_DPOP_REPLAY', invalidProof);
    assert.equal([...seen][0]!.startsWith(`${key.jkt}:`), true, 'replay keys are scoped by the proof key');
  });
});
