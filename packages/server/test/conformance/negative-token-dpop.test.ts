/**
 * Negative conformance tests for the token endpoint (digest T1–T5) and DPoP (DP1–DP3).
 * Positive steps use the shared harness (oauth4webapi for PAR and the browser steps); every
 * refused request is hand-made with fetch + jose so that it can be exactly as wrong as intended.
 * Each refusal is paired with a control that differs only in the property under test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as oauth from 'oauth4webapi';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import type { Dispatcher } from 'undici';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient, type TestClient } from '../support/clients.ts';
import { discover, pushAuthorizationRequest, runCodeFlow, validateCallback } from '../support/flow.ts';
import { createUserAgent } from '../support/user-agent.ts';
import { createTestUser, type TestUser } from '../support/users.ts';
import { createTempDatabase, POSTGRES_SKIP } from '../support/databases.ts';
import { generateKekValue } from '../../src/keys/kek.ts';

const ALLOWED_ALGS = ['PS256', 'ES256', 'EdDSA'];
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let server: TestServer;
let user: TestUser;

// ---------------------------------------------------------------------------------------------
// Hand-made requests
// ---------------------------------------------------------------------------------------------

interface Reply { status: number; headers: Headers; text: string; json: Record<string, unknown> }

async function send(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string>; dispatcher: Dispatcher }): Promise<Reply> {
  const method = init.method ?? 'POST';
  const headers: Record<string, string> = { ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...init.headers };
  const res = await fetch(url, {
    method, headers, redirect: 'manual', signal: AbortSignal.timeout(10_000),
    ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    dispatcher: init.dispatcher,
  } as RequestInit);
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try { json = JSON.parse(text) as Record<string, unknown>; } catch { /* not JSON: json stays empty */ }
  return { status: res.status, headers: res.headers, text, json };
}

const url = (path: string) => `${server.issuer}${path}`;

function kidOf(tc: TestClient): string {
  return String((tc.metadata.jwks as { keys: Array<{ kid: string }> }).keys[0]!.kid);
}

/** A private_key_jwt client assertion, as RFC 7523 and FAPI 2.0 want it. */
async function clientAssertion(tc: TestClient): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: kidOf(tc) })
    .setIssuer(tc.clientId).setSubject(tc.clientId).setAudience(server.issuer)
    .setIssuedAt(now).setExpirationTime(now + 60)
    .sign(tc.privateKey);
  return { client_assertion_type: JWT_BEARER, client_assertion: jwt };
}

/** Client authentication fields: an assertion for private_key_jwt, client_id for mTLS (the cert rides in the dispatcher). */
async function authFor(tc: TestClient): Promise<Record<string, string>> {
  return tc.metadata.token_endpoint_auth_method === 'private_key_jwt' ? { client_id: tc.clientId, ...(await clientAssertion(tc)) } : { client_id: tc.clientId };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

interface ProofOptions {
  htm?: string;
  htu?: string;
  /** Claims merged over the defaults; `undefined` removes a claim. */
  claims?: Record<string, unknown>;
  /** Header members merged over the defaults; `undefined` removes one. */
  header?: Record<string, unknown>;
  accessToken?: string;
}

/** A DPoP proof (RFC 9449 §4.2) signed with ES256 by `keys`, with any member overridable. */
async function proof(keys: CryptoKeyPair, options: ProofOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: randomUUID(), htm: options.htm ?? 'POST', htu: options.htu ?? url('/token'), iat: Math.floor(Date.now() / 1000),
    ...(options.accessToken ? { ath: createHash('sha256').update(options.accessToken).digest('base64url') } : {}),
    ...options.claims,
  };
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(keys.publicKey), ...options.header };
  for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
  for (const k of Object.keys(header)) if ((header as Record<string, unknown>)[k] === undefined) delete (header as Record<string, unknown>)[k];
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(keys.privateKey);
}

function freshClaims(htm = 'POST', htu = url('/token')) {
  return { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) };
}

/** Every way a proof can be wrong that must be refused (RFC 9449 §4.3), built lazily per endpoint. */
async function badProofs(keys: CryptoKeyPair, htm: string, htu: string, accessToken?: string): Promise<Array<[string, string]>> {
  const base: ProofOptions = { htm, htu, ...(accessToken ? { accessToken } : {}) };
  const jwk = await exportJWK(keys.publicKey);
  const rsa = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const extractable = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = await exportJWK(extractable.privateKey);
  const hmacKey = randomBytes(32);
  const now = Math.floor(Date.now() / 1000);
  const ath = accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {};
  const good = await proof(keys, base);
  const [h, p, s] = good.split('.') as [string, string, string];
  const flipped = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
  return [
    ['typ JWT', await proof(keys, { ...base, header: { typ: 'JWT' } })],
    ['typ missing', await proof(keys, { ...base, header: { typ: undefined } })],
    ['alg none', `${b64({ typ: 'dpop+jwt', alg: 'none', jwk })}.${b64({ ...freshClaims(htm, htu), ...ath })}.`],
    ['alg HS256', await new SignJWT({ ...freshClaims(htm, htu), ...ath }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: hmacKey.toString('base64url') } } as never).sign(hmacKey)],
    ['alg RS256', await new SignJWT({ ...freshClaims(htm, htu), ...ath }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'RS256', jwk: await exportJWK(rsa.publicKey) }).sign(rsa.privateKey)],
    ['private key in jwk', await new SignJWT({ ...freshClaims(htm, htu), ...ath }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: privateJwk }).sign(extractable.privateKey)],
    ['no jwk', await proof(keys, { ...base, header: { jwk: undefined } })],
    ['jti missing', await proof(keys, { ...base, claims: { jti: undefined } })],
    ['htm missing', await proof(keys, { ...base, claims: { htm: undefined } })],
    ['htu missing', await proof(keys, { ...base, claims: { htu: undefined } })],
    ['iat missing', await proof(keys, { ...base, claims: { iat: undefined } })],
    ['iat a string', await proof(keys, { ...base, claims: { iat: String(now) } })],
    [`wrong htm (${htm === 'POST' ? 'GET' : 'POST'})`, await proof(keys, { ...base, htm: htm === 'POST' ? 'GET' : 'POST' })],
    ['wrong htu (other endpoint)', await proof(keys, { ...base, htu: url('/par') })],
    ['wrong htu (other host)', await proof(keys, { ...base, htu: htu.replace('localhost', 'example.com') })],
    ['wrong htu (path case differs)', await proof(keys, { ...base, htu: htu.replace(/\/([a-z]+)$/, (_m, p1: string) => `/${p1.toUpperCase()}`) })],
    ['bad signature', flipped],
    ['signed by a key other than jwk', await new SignJWT({ ...freshClaims(htm, htu), ...ath }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk }).sign(extractable.privateKey)],
  ];
}

// ---------------------------------------------------------------------------------------------
// Flow helpers
// ---------------------------------------------------------------------------------------------

interface CodeResult { code: string; verifier: string; as: oauth.AuthorizationServer }

/** PAR (with the client's DPoP key when it has one) → sign-in → consent → the code at the callback. */
async function obtainCode(tc: TestClient, extra: Record<string, string> = {}, srv: TestServer = server, who: TestUser = user): Promise<CodeResult> {
  const as = await discover(srv, tc);
  const par = await pushAuthorizationRequest(as, tc, extra);
  const ua = createUserAgent(srv.dispatcher(), srv.issuer);
  const { callback, page } = await ua.authorize(par.authorizationUrl, { username: who.username, password: who.password });
  assert.ok(callback, `no callback: ${page?.status} ${page?.body.slice(0, 200)}`);
  const params = await validateCallback(as, tc, callback, par.state);
  return { code: params.get('code')!, verifier: par.verifier, as };
}

async function redeem(tc: TestClient, c: CodeResult, opts: { dpop?: string | undefined; verifier?: string; dispatcher?: Dispatcher; srv?: TestServer } = {}): Promise<Reply> {
  const srv = opts.srv ?? server;
  return send(`${srv.issuer}/token`, {
    form: { grant_type: 'authorization_code', code: c.code, redirect_uri: tc.redirectUri, code_verifier: opts.verifier ?? c.verifier, ...(await authFor(tc)) },
    headers: opts.dpop ? { dpop: opts.dpop } : {},
    dispatcher: opts.dispatcher ?? tc.dispatcher,
  });
}

async function introspect(tc: TestClient, token: string): Promise<Record<string, unknown>> {
  const r = await send(url('/token/introspection'), { form: { token, ...(await authFor(tc)) }, dispatcher: tc.dispatcher });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

function assertRefused(r: Reply, errors: string[], status = 400) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.ok(errors.includes(String(r.json.error)), `expected error in [${errors.join(', ')}], got ${r.text}`);
  assert.equal(r.json.access_token, undefined, 'no token issued');
}

async function serverJwks(srv: TestServer = server) {
  const r = await send(`${srv.issuer}/jwks`, { method: 'GET', dispatcher: srv.dispatcher() });
  return createLocalJWKSet(r.json as { keys: JWK[] });
}

// Clients, registered once.
let dpopMtls: TestClient; // tls_client_auth × DPoP, all grant types: hand-made requests need only its certificate.
let otherDpopMtls: TestClient; // a second client of the same kind
let pkjDpop: TestClient; // private_key_jwt × DPoP
let pkjMtlsBound: TestClient; // private_key_jwt × certificate-bound tokens

before(async () => {
  server = await startTestServer();
  user = await createTestUser(server);
  const all = ['authorization_code', 'refresh_token', 'client_credentials'];
  [dpopMtls, otherDpopMtls, pkjDpop, pkjMtlsBound] = await Promise.all([
    registerTestClient(server, { auth: 'tls_client_auth', binding: 'dpop', grantTypes: all }),
    registerTestClient(server, { auth: 'tls_client_auth', binding: 'dpop', grantTypes: all }),
    registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' }),
    registerTestClient(server, { auth: 'private_key_jwt', binding: 'mtls' }),
  ]);
});
after(() => server.close());

// ---------------------------------------------------------------------------------------------
// T1 authorization codes
// ---------------------------------------------------------------------------------------------

describe('T1 authorization codes', () => {
  it('T1: a stored authorization code lives at most 60 s (exp − iat ≤ 60, row expires ≤ 60 s ahead)', async () => {
    const c = await obtainCode(dpopMtls);
    const row = await server.app.storage.db.selectFrom('oidc_models').select(['payload', 'expires_at'])
      .where('model', '=', 'AuthorizationCode').where('id', '=', c.code).executeTakeFirst();
    assert.ok(row, 'the code is stored under its value');
    const payload = row.payload as { exp: number; iat: number };
    assert.ok(payload.exp - payload.iat <= 60, `code lifetime ${payload.exp - payload.iat} s`);
    assert.ok(payload.exp - payload.iat > 0);
    assert.ok(row.expires_at && row.expires_at.getTime() - Date.now() <= 60_000, `row expires at ${row.expires_at?.toISOString()}`);
  });

  it('T1: an expired code is refused with invalid_grant (server with a 10 s code lifetime)', async () => {
    const short = await startTestServer({ config: { ttl: { authorizationCode: 10 } } });
    try {
      const u = await createTestUser(short);
      const tc = await registerTestClient(short, { auth: 'tls_client_auth', binding: 'dpop' });
      const c = await obtainCode(tc, {}, short, u);
      await sleep(11_500);
      const r = await redeem(tc, c, { dpop: await proof(tc.dpopKeys!, { htu: `${short.issuer}/token` }), srv: short });
      assertRefused(r, ['invalid_grant']);
    } finally {
      await short.close();
    }
  });

  it('T1: a reused code → invalid_grant and the first tokens are revoked', async () => {
    const c = await obtainCode(dpopMtls);
    const first = await redeem(dpopMtls, c, { dpop: await proof(dpopMtls.dpopKeys!) });
    assert.equal(first.status, 200, first.text);
    const accessToken = String(first.json.access_token);
    const refreshToken = String(first.json.refresh_token);
    assert.equal((await introspect(dpopMtls, accessToken)).active, true, 'control: active before the replay');

    const second = await redeem(dpopMtls, c, { dpop: await proof(dpopMtls.dpopKeys!) });
    assertRefused(second, ['invalid_grant']);

    assert.deepEqual(await introspect(dpopMtls, accessToken), { active: false }, 'access token from the first redemption revoked');
    assert.deepEqual(await introspect(dpopMtls, refreshToken), { active: false }, 'refresh token from the first redemption revoked');
  });

  it('T1: a code is bound to its client (another client redeeming it → invalid_grant)', async () => {
    const c = await obtainCode(dpopMtls);
    const stolen = await redeem(otherDpopMtls, c, { dpop: await proof(otherDpopMtls.dpopKeys!) });
    assertRefused(stolen, ['invalid_grant']);
    const own = await redeem(dpopMtls, c, { dpop: await proof(dpopMtls.dpopKeys!) });
    assert.equal(own.status, 200, `control: the rightful client still redeems it: ${own.text}`);
  });

  it('T1: a code is bound to the PKCE verifier (wrong or missing verifier → invalid_grant)', async () => {
    const c = await obtainCode(dpopMtls);
    assertRefused(await redeem(dpopMtls, c, { dpop: await proof(dpopMtls.dpopKeys!), verifier: oauth.generateRandomCodeVerifier() }), ['invalid_grant']);
    const missing = await send(url('/token'), {
      form: { grant_type: 'authorization_code', code: c.code, redirect_uri: dpopMtls.redirectUri, client_id: dpopMtls.clientId },
      headers: { dpop: await proof(dpopMtls.dpopKeys!) }, dispatcher: dpopMtls.dispatcher,
    });
    assertRefused(missing, ['invalid_grant', 'invalid_request']);
    const own = await redeem(dpopMtls, c, { dpop: await proof(dpopMtls.dpopKeys!) });
    assert.equal(own.status, 200, `control: the right verifier works: ${own.text}`);
  });

  it('T1: a code is bound to the DPoP key used at PAR (another key at the token endpoint → refused)', async () => {
    const c = await obtainCode(dpopMtls);
    const otherKey = await generateKeyPair('ES256');
    const r = await redeem(dpopMtls, c, { dpop: await proof(otherKey) });
    assertRefused(r, ['invalid_grant', 'invalid_dpop_proof']);
  });
});

// ---------------------------------------------------------------------------------------------
// T2 sender-constrained access tokens
// ---------------------------------------------------------------------------------------------

describe('T2 sender constraint at the token endpoint', () => {
  it('T2: a DPoP client\'s token request without a DPoP proof → 400, with one → DPoP token with cnf.jkt', async () => {
    const c = await obtainCode(dpopMtls);
    assertRefused(await redeem(dpopMtls, c), ['invalid_grant', 'invalid_dpop_proof', 'invalid_request']);
    const ok = await redeem(dpopMtls, c, { dpop: await proof(dpopMtls.dpopKeys!) });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.token_type, 'DPoP');
    const info = await introspect(dpopMtls, String(ok.json.access_token));
    assert.equal((info.cnf as { jkt?: string }).jkt, await calculateJwkThumbprint(await exportJWK(dpopMtls.dpopKeys!.publicKey)));
  });

  it('T2: a DPoP client\'s client_credentials request without a proof → 400', async () => {
    const r = await send(url('/token'), { form: { grant_type: 'client_credentials', client_id: dpopMtls.clientId }, dispatcher: dpopMtls.dispatcher });
    assertRefused(r, ['invalid_grant', 'invalid_dpop_proof', 'invalid_request']);
  });

  it('T2: an mTLS-bound client\'s token request without a client certificate → 400, with it → cnf.x5t#S256', async () => {
    const c = await obtainCode(pkjMtlsBound);
    const noCert = await redeem(pkjMtlsBound, c, { dispatcher: server.dispatcher() });
    // The client authenticates with private_key_jwt, so the refusal is the binding, not client authentication.
    assertRefused(noCert, ['invalid_grant', 'invalid_request']);
    const ok = await redeem(pkjMtlsBound, c);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(String(ok.json.token_type).toLowerCase(), 'bearer');
    const info = await introspect(pkjMtlsBound, String(ok.json.access_token));
    assert.equal((info.cnf as Record<string, string>)['x5t#S256'], pkjMtlsBound.cert!.thumbprint);
  });
});

// ---------------------------------------------------------------------------------------------
// T3 refresh tokens
// ---------------------------------------------------------------------------------------------

describe('T3 refresh tokens', () => {
  let refreshToken: string;
  let mtlsRefreshToken: string;
  const refresh = async (tc: TestClient, token: string, opts: { dpop?: string; dispatcher?: Dispatcher; noAuth?: boolean } = {}) => send(url('/token'), {
    form: { grant_type: 'refresh_token', refresh_token: token, ...(opts.noAuth ? { client_id: tc.clientId } : await authFor(tc)) },
    headers: opts.dpop ? { dpop: opts.dpop } : {},
    dispatcher: opts.dispatcher ?? tc.dispatcher,
  });

  before(async () => {
    const { tokens } = await runCodeFlow(server, pkjDpop, { username: user.username, password: user.password });
    refreshToken = tokens.refresh_token!;
    const m = await runCodeFlow(server, pkjMtlsBound, { username: user.username, password: user.password });
    mtlsRefreshToken = m.tokens.refresh_token!;
    assert.ok(refreshToken && mtlsRefreshToken);
  });

  it('T3: a refresh token used by another client → invalid_grant', async () => {
    assertRefused(await refresh(otherDpopMtls, refreshToken, { dpop: await proof(otherDpopMtls.dpopKeys!) }), ['invalid_grant']);
  });

  it('T3: a refresh without client authentication → 401 invalid_client', async () => {
    assertRefused(await refresh(pkjDpop, refreshToken, { dpop: await proof(pkjDpop.dpopKeys!), noAuth: true }), ['invalid_client'], 401);
  });

  it('T3: a DPoP-bound refresh without a proof → 400', async () => {
    assertRefused(await refresh(pkjDpop, refreshToken), ['invalid_grant', 'invalid_dpop_proof', 'invalid_request']);
  });

  it('T3: a DPoP-bound refresh with another DPoP key → invalid_grant', async () => {
    assertRefused(await refresh(pkjDpop, refreshToken, { dpop: await proof(await generateKeyPair('ES256')) }), ['invalid_grant', 'invalid_dpop_proof']);
  });

  it('T3: a certificate-bound refresh without a client certificate → 400', async () => {
    assertRefused(await refresh(pkjMtlsBound, mtlsRefreshToken, { dispatcher: server.dispatcher() }), ['invalid_grant', 'invalid_request']);
    const ok = await refresh(pkjMtlsBound, mtlsRefreshToken);
    assert.equal(ok.status, 200, `control: with its own certificate: ${ok.text}`);
  });

  it('T3: a certificate-bound refresh presenting another certificate → invalid_grant', async () => {
    assertRefused(await refresh(pkjMtlsBound, mtlsRefreshToken, { dispatcher: dpopMtls.dispatcher }), ['invalid_grant']);
  });

  it('T3: the refresh token is not rotated and stays usable; the new access token keeps the DPoP binding', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await refresh(pkjDpop, refreshToken, { dpop: await proof(pkjDpop.dpopKeys!) });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.refresh_token === undefined || r.json.refresh_token === refreshToken, 'not rotated');
      assert.equal(r.json.token_type, 'DPoP');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// T4 refused grants and response types, T5 token responses
// ---------------------------------------------------------------------------------------------

describe('T4 refused grants and flows', () => {
  it('T4: grant_type=password → 400 unsupported_grant_type', async () => {
    const r = await send(url('/token'), {
      form: { grant_type: 'password', username: user.username, password: user.password, client_id: dpopMtls.clientId },
      headers: { dpop: await proof(dpopMtls.dpopKeys!) }, dispatcher: dpopMtls.dispatcher,
    });
    assertRefused(r, ['unsupported_grant_type']);
  });

  it('T4: grant_type=implicit and an unknown grant type → 400 unsupported_grant_type', async () => {
    for (const grantType of ['implicit', 'urn:example:made-up']) {
      const r = await send(url('/token'), { form: { grant_type: grantType, client_id: dpopMtls.clientId }, headers: { dpop: await proof(dpopMtls.dpopKeys!) }, dispatcher: dpopMtls.dispatcher });
      assertRefused(r, ['unsupported_grant_type']);
    }
  });

  for (const responseType of ['token', 'code id_token', 'id_token', 'code token']) {
    it(`T4: response_type=${responseType} at PAR → 400 unsupported_response_type / invalid_request`, async () => {
      const r = await send(url('/par'), {
        form: {
          client_id: dpopMtls.clientId, response_type: responseType, redirect_uri: dpopMtls.redirectUri, scope: 'openid', nonce: 'n-123',
          code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), code_challenge_method: 'S256',
        },
        dispatcher: dpopMtls.dispatcher,
      });
      assert.equal(r.status, 400, r.text);
      assert.ok(['unsupported_response_type', 'invalid_request', 'unauthorized_client'].includes(String(r.json.error)), r.text);
      assert.equal(r.json.request_uri, undefined);
    });
  }
});

describe('T5 token responses', () => {
  it('T5: success and error responses carry Cache-Control: no-store; scope is returned; the ID token is well formed', async () => {
    const c = await obtainCode(dpopMtls, { max_age: '300', acr_values: 'urn:sekisho:aal1' });
    const r = await redeem(dpopMtls, c, { dpop: await proof(dpopMtls.dpopKeys!) });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('cache-control') ?? '', /no-store/);
    assert.ok(String(r.json.scope).split(' ').includes('openid'), 'scope returned');
    const idToken = String(r.json.id_token);
    const header = decodeProtectedHeader(idToken);
    assert.ok(ALLOWED_ALGS.includes(String(header.alg)), `ID token alg ${header.alg}`);
    assert.ok(header.kid, 'ID token names its key');
    const { payload } = await jwtVerify(idToken, await serverJwks(), { issuer: server.issuer, audience: dpopMtls.clientId, algorithms: ALLOWED_ALGS });
    for (const claim of ['iss', 'aud', 'exp', 'iat', 'sub', 'nonce', 'auth_time', 'acr']) assert.ok(payload[claim] !== undefined, `ID token claim ${claim}`);
    assert.equal(payload.acr, 'urn:sekisho:aal1');

    const error = await redeem(dpopMtls, c, { dpop: await proof(dpopMtls.dpopKeys!) });
    assert.equal(error.status, 400);
    assert.match(error.headers.get('cache-control') ?? '', /no-store/, 'error responses are not cached either');

    const cc = await send(url('/token'), { form: { grant_type: 'client_credentials', client_id: dpopMtls.clientId }, headers: { dpop: await proof(dpopMtls.dpopKeys!) }, dispatcher: dpopMtls.dispatcher });
    assert.equal(cc.status, 200, cc.text);
    assert.match(cc.headers.get('cache-control') ?? '', /no-store/);
  });
});

// ---------------------------------------------------------------------------------------------
// DP1 proof validation, DP2 htu normalisation
// ---------------------------------------------------------------------------------------------

describe('DP1 DPoP proof validation', () => {
  const clientCredentials = (dpop: string | undefined) => send(url('/token'), {
    form: { grant_type: 'client_credentials', client_id: dpopMtls.clientId },
    headers: dpop === undefined ? {} : { dpop },
    dispatcher: dpopMtls.dispatcher,
  });

  it('DP1: control — a well-formed proof gets a DPoP token at the token endpoint', async () => {
    const r = await clientCredentials(await proof(dpopMtls.dpopKeys!));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.token_type, 'DPoP');
  });

  it('DP1: malformed proofs at the token endpoint → 400 invalid_dpop_proof', async () => {
    const failures: string[] = [];
    for (const [name, jwt] of await badProofs(dpopMtls.dpopKeys!, 'POST', url('/token'))) {
      const r = await clientCredentials(jwt);
      if (r.status !== 400 || r.json.error !== 'invalid_dpop_proof' || r.json.access_token) failures.push(`${name}: ${r.status} ${r.text}`);
    }
    assert.deepEqual(failures, []);
  });

  it('DP1: a stale or future iat (10 min) is refused at the token endpoint', async () => {
    for (const offset of [-600, 600]) {
      const r = await clientCredentials(await proof(dpopMtls.dpopKeys!, { claims: { iat: Math.floor(Date.now() / 1000) + offset } }));
      assert.equal(r.status, 400, `iat ${offset}: ${r.text}`);
      // RFC 9449 §11.1: a server that issues nonces may answer an out-of-window iat with a nonce challenge.
      assert.ok(r.json.error === 'invalid_dpop_proof' || (r.json.error === 'use_dpop_nonce' && r.headers.get('dpop-nonce')), `iat ${offset}: ${r.text}`);
      assert.equal(r.json.access_token, undefined);
    }
  });

  it('DP1: a replayed proof (same jti) at the token endpoint → 400 invalid_dpop_proof', async () => {
    const jwt = await proof(dpopMtls.dpopKeys!);
    const first = await clientCredentials(jwt);
    assert.equal(first.status, 200, first.text);
    assertRefused(await clientCredentials(jwt), ['invalid_dpop_proof']);
  });

  it('DP1: a nonce the server never issued → 400 use_dpop_nonce with a fresh DPoP-Nonce', async () => {
    const r = await clientCredentials(await proof(dpopMtls.dpopKeys!, { claims: { nonce: 'made-up-nonce' } }));
    assertRefused(r, ['use_dpop_nonce', 'invalid_dpop_proof']);
    if (r.json.error === 'use_dpop_nonce') assert.ok(r.headers.get('dpop-nonce'));
  });

  describe('at the UserInfo endpoint (a resource)', () => {
    let accessToken: string;
    before(async () => {
      const c = await obtainCode(dpopMtls);
      const r = await redeem(dpopMtls, c, { dpop: await proof(dpopMtls.dpopKeys!) });
      assert.equal(r.status, 200, r.text);
      accessToken = String(r.json.access_token);
    });
    const userinfo = (dpop: string | undefined, method = 'GET') => send(url('/userinfo'), {
      method, headers: { authorization: `DPoP ${accessToken}`, ...(dpop ? { dpop } : {}) }, dispatcher: dpopMtls.dispatcher,
    });

    it('DP1: control — a well-formed proof with ath reads UserInfo', async () => {
      const r = await userinfo(await proof(dpopMtls.dpopKeys!, { htm: 'GET', htu: url('/userinfo'), accessToken }));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.sub, user.id);
    });

    // (A DPoP token with no proof at all is rule R2, covered by the resource-server suite.)
    it('DP1: malformed proofs, a missing or wrong ath, a replayed jti → 401 with WWW-Authenticate: DPoP', async () => {
      const cases = await badProofs(dpopMtls.dpopKeys!, 'GET', url('/userinfo'), accessToken);
      cases.push(['ath missing', await proof(dpopMtls.dpopKeys!, { htm: 'GET', htu: url('/userinfo') })]);
      cases.push(['ath of another token', await proof(dpopMtls.dpopKeys!, { htm: 'GET', htu: url('/userinfo'), accessToken: `${accessToken}x` })]);
      cases.push(['iat 10 min old', await proof(dpopMtls.dpopKeys!, { htm: 'GET', htu: url('/userinfo'), accessToken, claims: { iat: Math.floor(Date.now() / 1000) - 600 } })]);
      const replayed = await proof(dpopMtls.dpopKeys!, { htm: 'GET', htu: url('/userinfo'), accessToken });
      assert.equal((await userinfo(replayed)).status, 200);
      cases.push(['replayed jti', replayed]);
      const failures: string[] = [];
      for (const [name, jwt] of cases) {
        const r = await userinfo(jwt);
        const www = r.headers.get('www-authenticate') ?? '';
        if (r.status !== 401 || !/^DPoP /i.test(www) || r.json.sub) failures.push(`${name}: ${r.status} ${www} ${r.text}`);
      }
      assert.deepEqual(failures, []);
    });

    it('DP1: a malformed proof at UserInfo names invalid_dpop_proof in WWW-Authenticate', async () => {
      const r = await userinfo(await proof(dpopMtls.dpopKeys!, { htm: 'GET', htu: url('/userinfo'), accessToken, header: { typ: 'JWT' } }));
      assert.equal(r.status, 401);
      assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_dpop_proof"/);
    });
  });
});

describe('DP2 htu comparison', () => {
  const issuerUrl = () => new URL(server.issuer);
  const clientCredentials = async (htu: string) => send(url('/token'), {
    form: { grant_type: 'client_credentials', client_id: dpopMtls.clientId },
    headers: { dpop: await proof(dpopMtls.dpopKeys!, { htu }) },
    dispatcher: dpopMtls.dispatcher,
  });

  it('DP2: htu with an upper-case scheme and host is accepted', async () => {
    const r = await clientCredentials(`HTTPS://LOCALHOST:${issuerUrl().port}/token`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.token_type, 'DPoP');
  });

  it('DP2: htu with a query string and a fragment is accepted', async () => {
    const r = await clientCredentials(`${url('/token')}?foo=bar&baz=1#frag`);
    assert.equal(r.status, 200, r.text);
  });
});

// ---------------------------------------------------------------------------------------------
// DP3 server nonces
// ---------------------------------------------------------------------------------------------

describe('DP3 server-provided DPoP nonces', () => {
  const nonceSecret = randomBytes(32).toString('base64url');
  let a: TestServer;
  let b: TestServer;
  let tcA: TestClient;
  let tcB: TestClient;

  before(async () => {
    [a, b] = await Promise.all([
      startTestServer({ config: { dpop: { requireNonce: true, nonceSecret } } }),
      startTestServer({ config: { dpop: { requireNonce: true, nonceSecret } } }),
    ]);
    tcA = await registerTestClient(a, { auth: 'tls_client_auth', binding: 'dpop', grantTypes: ['authorization_code', 'client_credentials'] });
    tcB = await registerTestClient(b, { auth: 'tls_client_auth', binding: 'dpop', grantTypes: ['client_credentials'] });
  });
  after(async () => { await Promise.all([a?.close(), b?.close()]); });

  const cc = (srv: TestServer, tc: TestClient, dpop: string) => send(`${srv.issuer}/token`, {
    form: { grant_type: 'client_credentials', client_id: tc.clientId }, headers: { dpop }, dispatcher: tc.dispatcher,
  });

  it('DP3: without a nonce → 400 use_dpop_nonce + DPoP-Nonce header; with it → token', async () => {
    const first = await cc(a, tcA, await proof(tcA.dpopKeys!, { htu: `${a.issuer}/token` }));
    assertRefused(first, ['use_dpop_nonce']);
    const nonce = first.headers.get('dpop-nonce');
    assert.ok(nonce, 'DPoP-Nonce header');
    const second = await cc(a, tcA, await proof(tcA.dpopKeys!, { htu: `${a.issuer}/token`, claims: { nonce } }));
    assert.equal(second.status, 200, second.text);
    assert.equal(second.json.token_type, 'DPoP');
  });

  it('DP3: a nonce issued by one instance is accepted by another instance with the same nonce secret', async () => {
    const challenge = await cc(a, tcA, await proof(tcA.dpopKeys!, { htu: `${a.issuer}/token` }));
    const nonce = challenge.headers.get('dpop-nonce');
    assert.ok(nonce);
    const r = await cc(b, tcB, await proof(tcB.dpopKeys!, { htu: `${b.issuer}/token`, claims: { nonce } }));
    assert.equal(r.status, 200, r.text);
  });

  it('DP3: a nonce from an instance with a different secret is refused (the secret is what is shared)', async () => {
    const foreign = await cc(server, dpopMtls, await proof(dpopMtls.dpopKeys!));
    const nonce = foreign.headers.get('dpop-nonce');
    assert.ok(nonce, 'the main server hands out nonces too');
    const r = await cc(a, tcA, await proof(tcA.dpopKeys!, { htu: `${a.issuer}/token`, claims: { nonce } }));
    assertRefused(r, ['use_dpop_nonce']);
  });

  it('DP3: the requirement applies at PAR too (use_dpop_nonce there)', async () => {
    const r = await send(`${a.issuer}/par`, {
      form: {
        client_id: tcA.clientId, response_type: 'code', redirect_uri: tcA.redirectUri, scope: 'openid',
        code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), code_challenge_method: 'S256',
      },
      headers: { dpop: await proof(tcA.dpopKeys!, { htu: `${a.issuer}/par` }) }, dispatcher: tcA.dispatcher,
    });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error, 'use_dpop_nonce', r.text);
    assert.ok(r.headers.get('dpop-nonce'));
  });

  it('DP3: two instances sharing one PostgreSQL database (no explicit secret) accept each other\'s nonces', { skip: POSTGRES_SKIP }, async () => {
    const database = await createTempDatabase();
    const shared = { databaseUrl: database.url, keyEncryptionKey: generateKekValue(), dpop: { requireNonce: true } };
    const p = await startTestServer({ config: shared });
    const q = await startTestServer({ config: shared });
    try {
      const tp = await registerTestClient(p, { auth: 'tls_client_auth', binding: 'dpop', grantTypes: ['client_credentials'] });
      const tq = await registerTestClient(q, { auth: 'tls_client_auth', binding: 'dpop', grantTypes: ['client_credentials'] });
      const nonce = (await cc(p, tp, await proof(tp.dpopKeys!, { htu: `${p.issuer}/token` }))).headers.get('dpop-nonce');
      assert.ok(nonce);
      const r = await cc(q, tq, await proof(tq.dpopKeys!, { htu: `${q.issuer}/token`, claims: { nonce } }));
      assert.equal(r.status, 200, r.text);
    } finally {
      await p.close();
      await q.close();
      await database.drop();
    }
  });
});
