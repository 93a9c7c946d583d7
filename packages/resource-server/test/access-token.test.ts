/**
 * Where the token comes from (fapi2.md R1), sender constraints and schemes (R2, T2), RFC 9068 JWT
 * validation, and scopes / authorization details — each refusal named by rule or RFC section and
 * by its error code, asserting status, `error` and the challenge.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT } from 'jose';
import { createResourceServer, ResourceServerError, ERROR_CODES, isResourceServerError, type AuthorizationDetail, type ResourceServerOptions } from '../src/index.ts';
import { AUDIENCE, ISSUER, API_URL, accessToken, apiRequest, dpopKey, dpopRequest, issuerKey, now, proof, signRaw } from './support/tokens.ts';
import { refused, ALGS } from './support/expect.ts';

const issuer = await issuerKey();
const key = await dpopKey();
const jwks = { keys: [issuer.publicJwk as never] };
const server = (options: Partial<ResourceServerOptions> = {}) => createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks, ...options });
const rs = server();
const bound = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => accessToken(issuer, { cnf: { jkt: key.jkt }, ...claims }, header);
const invalidToken = { error: 'invalid_token', scheme: 'DPoP' } as const;

describe('R1: the token only in the Authorization header, scheme case-insensitive', () => {
  it('R1 ERR_MISSING_TOKEN: no Authorization header → 401 with a Bearer and a DPoP challenge and no error', async () => {
    const e = await refused(rs.verify(apiRequest({})), 'ERR_MISSING_TOKEN', { error: undefined, scheme: 'both' });
    assert.equal(e.headers['www-authenticate'], `Bearer, DPoP ${ALGS}`);
    const response = rs.errorResponse(e);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `Bearer, DPoP ${ALGS}`);
    assert.equal(await response.text(), '');
  });

  it('R1 ERR_INVALID_REQUEST: access_token in the query string → 400, alone or next to a valid header', async () => {
    const token = await bound();
    await refused(rs.verify(apiRequest({}, `${API_URL}?access_token=${token}`)), 'ERR_INVALID_REQUEST', { error: 'invalid_request', scheme: 'both' });
    await refused(rs.verify(apiRequest({}, `${API_URL}?a=1&access%5Ftoken=${token}`)), 'ERR_INVALID_REQUEST', { error: 'invalid_request', scheme: 'both' });
    const both = apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token) }, `${API_URL}?access_token=${token}`);
    const e = await refused(rs.verify(both), 'ERR_INVALID_REQUEST', { error: 'invalid_request', scheme: 'both' });
    assert.ok(!e.headers['www-authenticate']!.includes(token.slice(0, 20)), 'the token is never echoed');
  });

  it('R1: the scheme name is case-insensitive (dpop, DPOP, DpOp)', async () => {
    const token = await bound();
    for (const scheme of ['dpop', 'DPOP', 'DpOp']) {
      await rs.verify(apiRequest({ authorization: `${scheme} ${token}`, dpop: await proof(key, token) }));
    }
  });

  it('R1 ERR_INVALID_REQUEST: two Authorization headers, an unknown scheme, or a malformed value', async () => {
    const token = await bound();
    const twice = apiRequest([['authorization', `DPoP ${token}`], ['authorization', `DPoP ${token}`], ['dpop', await proof(key, token)]]);
    await refused(rs.verify(twice), 'ERR_INVALID_REQUEST', { error: 'invalid_request', scheme: 'both' });
    for (const value of [`Basic ${btoa('a:b')}`, 'DPoP', 'DPoP ', `DPoP ${token} extra`, `DPoP\t${token}`, `DPoP "${token}"`, 'Bearer a,b', `${token}`]) {
      await refused(rs.verify(apiRequest({ authorization: value })), 'ERR_INVALID_REQUEST', { error: 'invalid_request', scheme: 'both' });
    }
  });
});

describe('R2 and T2: the token must be sender-constrained and sent with the scheme its binding needs', () => {
  it('R2 ERR_WRONG_SCHEME: a DPoP-bound token sent as Bearer (with or without a proof) → 401 invalid_token with a DPoP challenge', async () => {
    const token = await bound();
    for (const headers of [{ authorization: `Bearer ${token}` }, { authorization: `Bearer ${token}`, dpop: await proof(key, token) }] as Array<Record<string, string>>) {
      const e = await refused(rs.verify(apiRequest(headers)), 'ERR_WRONG_SCHEME', invalidToken);
      assert.equal(e.headers['www-authenticate'], `DPoP error="invalid_token", error_description="The access token was sent with the wrong authentication scheme", ${ALGS}`);
    }
  });

  it('R2 ERR_DPOP_PROOF_MISSING: the DPoP scheme without a proof', async () => {
    await refused(rs.verify(apiRequest({ authorization: `DPoP ${await bound()}` })), 'ERR_DPOP_PROOF_MISSING', { error: 'invalid_dpop_proof', scheme: 'DPoP' });
  });

  it('R2 ERR_DPOP_ATH_MISMATCH: a proof whose ath is not the token hash', async () => {
    const token = await bound();
    await refused(rs.verify(await dpopRequest(token, key, { ath: 'x'.repeat(43) })), 'ERR_DPOP_ATH_MISMATCH', { error: 'invalid_dpop_proof', scheme: 'DPoP' });
  });

  it('T2 ERR_UNBOUND_TOKEN: a token without cnf (or with an empty one) is refused, whatever the scheme', async () => {
    for (const claims of [{ cnf: undefined }, { cnf: {} }, { cnf: { jkt: 42 } }]) {
      const token = await accessToken(issuer, claims);
      await refused(rs.verify(apiRequest({ authorization: `Bearer ${token}` })), 'ERR_UNBOUND_TOKEN', { error: 'invalid_token', scheme: 'Bearer' });
      await refused(rs.verify(await dpopRequest(token, key)), 'ERR_UNBOUND_TOKEN', invalidToken);
    }
  });
});

describe('RFC 9068 §4: JWT access token validation', () => {
  it('ERR_INVALID_TOKEN: typ other than at+jwt (application/at+jwt in any case is fine)', async () => {
    for (const typ of ['JWT', 'jwt', undefined, 'dpop+jwt']) {
      const token = await bound({}, { typ });
      await refused(rs.verify(await dpopRequest(token, key)), 'ERR_INVALID_TOKEN', invalidToken);
    }
    for (const typ of ['application/at+jwt', 'AT+JWT', 'Application/AT+JWT']) await rs.verify(await dpopRequest(await bound({}, { typ }), key));
  });

  it('ERR_INVALID_TOKEN: alg outside the allow-list (HS256 with the JWK\'s x as a secret, RS256, ES256 when only PS256 is allowed)', async () => {
    const hs = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 's', client_id: 'c', jti: 'j', iat: now(), exp: now() + 60, cnf: { jkt: key.jkt } })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: issuer.kid }).sign(new TextEncoder().encode(String(issuer.publicJwk.x)));
    await refused(rs.verify(await dpopRequest(hs, key)), 'ERR_INVALID_TOKEN', invalidToken);
    const rsa = await generateKeyPair('RS256');
    const rs256 = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 's', client_id: 'c', jti: 'j', iat: now(), exp: now() + 60, cnf: { jkt: key.jkt } })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: issuer.kid }).sign(rsa.privateKey);
    await refused(rs.verify(await dpopRequest(rs256, key)), 'ERR_INVALID_TOKEN', invalidToken);
    await refused(server({ algorithms: ['PS256'] }).verify(await dpopRequest(await bound(), key)), 'ERR_INVALID_TOKEN', { error: 'invalid_token' });
  });

  it('ERR_INVALID_TOKEN: a signature by another key under the issuer\'s kid; an unknown kid with inline keys; a tampered payload', async () => {
    const impostor = { ...(await issuerKey()), kid: issuer.kid };
    await refused(rs.verify(await dpopRequest(await accessToken(impostor, { cnf: { jkt: key.jkt } }), key)), 'ERR_INVALID_TOKEN', invalidToken);
    await refused(rs.verify(await dpopRequest(await bound({}, { kid: 'unknown' }), key)), 'ERR_INVALID_TOKEN', invalidToken);
    const [h, p, s] = (await bound()).split('.');
    const payload = JSON.parse(atob(p!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const tampered = `${h}.${btoa(JSON.stringify({ ...payload, scope: 'accounts payments admin' })).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}.${s}`;
    await refused(rs.verify(await dpopRequest(tampered, key)), 'ERR_INVALID_TOKEN', invalidToken);
  });

  it('ERR_INVALID_TOKEN: a crit header, b64: false, a payload that is not a JSON object (each correctly signed)', async () => {
    const claims = { iss: ISSUER, aud: AUDIENCE, sub: 's', client_id: 'c', jti: 'j', iat: now(), exp: now() + 60, cnf: { jkt: key.jkt } };
    const header = { alg: 'ES256', typ: 'at+jwt', kid: issuer.kid };
    await rs.verify(await dpopRequest(await signRaw(header, claims, issuer.privateKey), key));
    for (const [h, p] of [[{ ...header, crit: ['exp'] }, claims], [{ ...header, b64: false, crit: ['b64'] }, claims], [{ ...header, b64: false }, claims], [header, [1, 2]], [header, 'not json']] as const) {
      await refused(rs.verify(await dpopRequest(await signRaw(h, p, issuer.privateKey), key)), 'ERR_INVALID_TOKEN', invalidToken);
    }
  });

  it('ERR_TOKEN_EXPIRED: exp in the past (beyond the tolerance), nbf or iat in the future', async () => {
    await refused(rs.verify(await dpopRequest(await bound({ exp: now() - 10, iat: now() - 310 }), key)), 'ERR_TOKEN_EXPIRED', invalidToken);
    await refused(rs.verify(await dpopRequest(await bound({ nbf: now() + 60 }), key)), 'ERR_TOKEN_EXPIRED', invalidToken);
    await refused(rs.verify(await dpopRequest(await bound({ iat: now() + 60 }), key)), 'ERR_TOKEN_EXPIRED', invalidToken);
    await rs.verify(await dpopRequest(await bound({ exp: now() - 2 }), key));
  });

  it('ERR_WRONG_ISSUER and ERR_WRONG_AUDIENCE', async () => {
    await refused(rs.verify(await dpopRequest(await bound({ iss: 'https://evil.example.com' }), key)), 'ERR_WRONG_ISSUER', invalidToken);
    await refused(rs.verify(await dpopRequest(await bound({ aud: 'https://other.example.com/' }), key)), 'ERR_WRONG_AUDIENCE', invalidToken);
    await refused(rs.verify(await dpopRequest(await bound({ aud: ['https://other.example.com/'] }), key)), 'ERR_WRONG_AUDIENCE', invalidToken);
    await refused(rs.verify(await dpopRequest(await bound({ aud: undefined }), key)), 'ERR_WRONG_AUDIENCE', invalidToken);
    await rs.verify(await dpopRequest(await bound({ aud: ['https://other.example.com/', AUDIENCE] }), key));
  });

  it('ERR_INVALID_TOKEN: RFC 9068 §2.2 claims missing (sub, client_id, jti, iat, exp) or of the wrong type', async () => {
    for (const claims of [{ sub: undefined }, { client_id: undefined }, { jti: undefined }, { iat: undefined }, { exp: undefined }, { exp: '9999999999' }, { scope: ['accounts'] }, { cnf: 'x' }]) {
      await refused(rs.verify(await dpopRequest(await bound(claims), key)), 'ERR_INVALID_TOKEN', invalidToken);
    }
  });

  it('a JWT verified once is still checked for expiry at every use, and its claims cannot be changed by a handler', async () => {
    let clock = Date.now();
    const timed = server({ now: () => clock } as Partial<ResourceServerOptions>);
    const token = await bound({ exp: Math.floor(clock / 1000) + 30 });
    const access = await timed.verify(await dpopRequest(token, key, { iat: Math.floor(clock / 1000) }));
    assert.ok(Object.isFrozen(access.claims) && Object.isFrozen(access.claims.cnf));
    assert.throws(() => { (access.claims as { sub?: string }).sub = 'someone-else'; }, TypeError);
    await timed.verify(await dpopRequest(token, key, { iat: Math.floor(clock / 1000) }));
    clock += 40_000;
    await refused(timed.verify(await dpopRequest(token, key, { iat: Math.floor(clock / 1000) })), 'ERR_TOKEN_EXPIRED', invalidToken);
  });

  it('PS256 and EdDSA issuer keys verify too; a key published for another alg does not', async () => {
    for (const alg of ['PS256', 'EdDSA'] as const) {
      const k = await issuerKey(alg);
      const s = createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [k.publicJwk as never] } });
      await s.verify(await dpopRequest(await accessToken(k, { cnf: { jkt: key.jkt } }), key));
    }
    const mislabelled = createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [{ ...issuer.publicJwk, alg: 'ES384' } as never] } });
    await refused(mislabelled.verify(await dpopRequest(await bound(), key)), 'ERR_INVALID_TOKEN', invalidToken);
  });
});

describe('scopes and authorization details', () => {
  const details: AuthorizationDetail[] = [
    { type: 'account_information', actions: ['read'], locations: ['https://api.example.com/'] },
    { type: 'payment_initiation', instructedAmount: { currency: 'JPY', amount: '1000' } },
  ];

  it('ERR_INSUFFICIENT_SCOPE: 403 insufficient_scope with scope="<every required scope>"', async () => {
    const e = await refused(rs.verify(await dpopRequest(await bound(), key), { scopes: ['accounts', 'admin'] }), 'ERR_INSUFFICIENT_SCOPE', { status: 403, error: 'insufficient_scope', scheme: 'DPoP' });
    assert.equal(e.headers['www-authenticate'], `DPoP error="insufficient_scope", error_description="The access token lacks a required scope", scope="accounts admin", ${ALGS}`);
    await refused(rs.verify(await dpopRequest(await bound({ scope: undefined }), key), { scopes: ['accounts'] }), 'ERR_INSUFFICIENT_SCOPE', { status: 403 });
    const ok = await rs.verify(await dpopRequest(await bound(), key), { scopes: ['payments', 'accounts'] });
    assert.deepEqual(ok.scopes, ['accounts', 'payments']);
  });

  it('the predicate sees the details, its result becomes matchedDetails; false or [] → ERR_INSUFFICIENT_AUTHORIZATION_DETAILS', async () => {
    const token = await bound({ authorization_details: details });
    let seen: AuthorizationDetail[] = [];
    const access = await rs.verify(await dpopRequest(token, key), { authorizationDetails: (d) => { seen = d; return d.filter((x) => x.type === 'payment_initiation'); } });
    assert.deepEqual(seen, details);
    assert.deepEqual(access.authorizationDetails, details);
    assert.deepEqual(access.matchedDetails, [details[1]]);
    const all = await rs.verify(await dpopRequest(token, key), { authorizationDetails: () => true });
    assert.deepEqual(all.matchedDetails, details);
    for (const answer of [false, []]) {
      await refused(rs.verify(await dpopRequest(token, key), { authorizationDetails: () => answer }), 'ERR_INSUFFICIENT_AUTHORIZATION_DETAILS', { status: 403, error: 'insufficient_scope', scheme: 'DPoP' });
    }
    const none = await rs.verify(await dpopRequest(await bound(), key), { authorizationDetails: (d) => { assert.deepEqual(d, []); return true; } });
    assert.deepEqual(none.authorizationDetails, []);
  });

  it('ERR_INVALID_TOKEN: authorization_details that are not an array of typed objects', async () => {
    for (const bad of [{ type: 'x' }, [{ actions: [] }], ['x'], [{ type: 1 }]]) {
      await refused(rs.verify(await dpopRequest(await bound({ authorization_details: bad }), key)), 'ERR_INVALID_TOKEN', invalidToken);
    }
  });

  it('an exception from the API\'s own predicate is its own (not turned into a 401)', async () => {
    const boom = new Error('bug in the API');
    await assert.rejects(rs.verify(await dpopRequest(await bound({ authorization_details: details }), key), { authorizationDetails: () => { throw boom; } }), (e) => e === boom);
  });
});

describe('errors', () => {
  it('every code has a status, an error value and a fixed description; isResourceServerError recognises them', () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^ERR_[A-Z_]+$/);
      assert.ok([400, 401, 403, 503].includes(entry.status), code);
      assert.ok(entry.description.length > 10 && !entry.description.includes('"'), code);
    }
    const e = new ResourceServerError('ERR_TOKEN_EXPIRED', { scheme: 'Bearer', algs: ['ES256'] });
    assert.ok(isResourceServerError(e));
    assert.ok(!isResourceServerError(new Error('x')));
    assert.equal(e.name, 'ResourceServerError');
    assert.equal(e.message, 'The access token expired or is not yet valid');
  });

  it('a realm is quoted into every challenge', async () => {
    const withRealm = server({ realm: 'bank "api"' });
    const e = await refused(withRealm.verify(apiRequest({})), 'ERR_MISSING_TOKEN', { scheme: 'both' });
    assert.equal(e.headers['www-authenticate'], `Bearer realm="bank \\"api\\"", DPoP realm="bank \\"api\\"", ${ALGS}`);
  });

  it('createResourceServer refuses unusable options at once', () => {
    assert.throws(() => createResourceServer({ issuer: 'not a url', audience: AUDIENCE }), TypeError);
    assert.throws(() => createResourceServer({ issuer: ISSUER, audience: '' }), TypeError);
    assert.throws(() => createResourceServer({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256' as never] }), TypeError);
    assert.throws(() => createResourceServer({ issuer: ISSUER, audience: AUDIENCE, algorithms: [] }), TypeError);
  });
});
