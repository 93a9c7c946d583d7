/**
 * Negative conformance tests for Message Signing (digest M1–M4), introspection and revocation
 * (I1–I2) and the OpenID Connect basics (O1–O3). Requests the server must refuse are hand-made
 * (fetch + jose); each refusal has a control that differs only in the property under test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as oauth from 'oauth4webapi';
import { calculateJwkThumbprint, createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { Dispatcher } from 'undici';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient, type TestClient } from '../support/clients.ts';
import { createUserAgent, type UserAgent } from '../support/user-agent.ts';
import { createTestUser, type TestUser } from '../support/users.ts';

const ALLOWED_ALGS = ['PS256', 'ES256', 'EdDSA'];
const API = 'https://api.example.com';
const OTHER_API = 'https://other.example.com';
const JWT_API = 'https://jwt.example.com';
const EVIL_REDIRECT = 'https://evil.example.com/callback';

let server: TestServer;
let user: TestUser;

// ---------------------------------------------------------------------------------------------
// Hand-made requests
// ---------------------------------------------------------------------------------------------

interface Reply { status: number; headers: Headers; text: string; json: Record<string, unknown> }

async function send(path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string>; dispatcher: Dispatcher }): Promise<Reply> {
  const headers: Record<string, string> = { ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...init.headers };
  const res = await fetch(path.startsWith('https://') ? path : `${server.issuer}${path}`, {
    method: init.method ?? 'POST', headers, redirect: 'manual', signal: AbortSignal.timeout(10_000),
    ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    dispatcher: init.dispatcher,
  } as RequestInit);
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try { json = JSON.parse(text) as Record<string, unknown>; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

const now = () => Math.floor(Date.now() / 1000);
const kidOf = (tc: TestClient) => String((tc.metadata.jwks as { keys: Array<{ kid: string }> }).keys[0]!.kid);

async function proof(keys: CryptoKeyPair, htm: string, path: string, accessToken?: string): Promise<string> {
  return new SignJWT({
    jti: randomUUID(), htm, htu: `${server.issuer}${path}`, iat: now(),
    ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
  }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(keys.publicKey) }).sign(keys.privateKey);
}

/** Client authentication: every client here authenticates with its certificate (tls_client_auth). */
const auth = (tc: TestClient) => ({ client_id: tc.clientId });

async function serverJwks() {
  const r = await send('/jwks', { method: 'GET', dispatcher: server.dispatcher() });
  return createLocalJWKSet(r.json as { keys: JWK[] });
}

interface Pushed { reply: Reply; authorizationUrl: string; state: string; nonce: string; verifier: string }

/** Authorization parameters a FAPI client would push. */
async function authorizationParams(tc: TestClient, extra: Record<string, string | undefined> = {}) {
  const verifier = oauth.generateRandomCodeVerifier();
  const params: Record<string, string> = {
    client_id: tc.clientId, response_type: 'code', redirect_uri: tc.redirectUri, scope: 'openid',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(),
    ...(tc.metadata.require_signed_request_object ? { response_mode: 'jwt' } : {}),
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete params[k];
    else params[k] = v;
  }
  return { params, verifier };
}

/** A signed request object (JAR) for `tc` with claims and header overridable; `undefined` removes a claim. */
async function requestObject(tc: TestClient, params: Record<string, string>, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: CryptoKey = tc.privateKey): Promise<string> {
  const t = now();
  const payload: Record<string, unknown> = { ...params, iss: tc.clientId, aud: server.issuer, iat: t, nbf: t, exp: t + 300, jti: randomUUID(), ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: 'ES256', kid: kidOf(tc), typ: 'oauth-authz-req+jwt', ...header } as { alg: string }).sign(key);
}

/** POST /par — a request object for Message Signing clients, plain parameters otherwise. */
async function push(tc: TestClient, extra: Record<string, string | undefined> = {}, outside: Record<string, string> = {}): Promise<Pushed> {
  const { params, verifier } = await authorizationParams(tc, extra);
  const form = tc.metadata.require_signed_request_object
    ? { client_id: tc.clientId, request: await requestObject(tc, params), ...outside }
    : { ...params, ...outside };
  const reply = await send('/par', { form, dispatcher: tc.dispatcher });
  const u = new URL(`${server.issuer}/auth`);
  u.searchParams.set('client_id', tc.clientId);
  u.searchParams.set('request_uri', String(reply.json.request_uri));
  return { reply, authorizationUrl: u.toString(), state: params.state!, nonce: params.nonce!, verifier };
}

/** Runs sign-in and consent in `ua`; returns the parameters the client receives at its redirect URI. */
async function authorize(p: Pushed, ua: UserAgent = newUa(), opts: { consent?: 'allow' | 'deny' } = {}): Promise<URL> {
  assert.equal(p.reply.status, 201, p.reply.text);
  const { callback, page } = await ua.authorize(p.authorizationUrl, { username: user.username, password: user.password, ...opts });
  assert.ok(callback, `no callback: ${page?.status} ${page?.body.slice(0, 300)}`);
  return new URL(callback);
}

const newUa = () => createUserAgent(server.dispatcher(), server.issuer);

async function redeem(tc: TestClient, code: string, verifier: string): Promise<Reply> {
  return send('/token', {
    form: { grant_type: 'authorization_code', code, redirect_uri: tc.redirectUri, code_verifier: verifier, ...auth(tc) },
    headers: tc.dpopKeys ? { dpop: await proof(tc.dpopKeys, 'POST', '/token') } : {},
    dispatcher: tc.dispatcher,
  });
}

/** PAR → sign-in → consent → token for a plain (Security Profile) client. */
async function tokensFor(tc: TestClient, extra: Record<string, string | undefined> = {}, ua?: UserAgent) {
  const p = await push(tc, extra);
  const cb = await authorize(p, ua);
  const code = cb.searchParams.get('code');
  assert.ok(code, `no code: ${cb}`);
  const r = await redeem(tc, code, p.verifier);
  assert.equal(r.status, 200, r.text);
  return r.json as { access_token: string; refresh_token?: string; id_token?: string; token_type: string; scope?: string; grant_id?: string };
}

async function introspect(caller: TestClient, token: string, headers: Record<string, string> = {}): Promise<Reply> {
  return send('/token/introspection', { form: { token, ...auth(caller) }, headers, dispatcher: caller.dispatcher });
}

async function clientCredentials(tc: TestClient, extra: Record<string, string>): Promise<Reply> {
  return send('/token', {
    form: { grant_type: 'client_credentials', ...auth(tc), ...extra },
    headers: tc.dpopKeys ? { dpop: await proof(tc.dpopKeys, 'POST', '/token') } : {},
    dispatcher: tc.dispatcher,
  });
}

// Clients.
let ms: TestClient; // Message Signing, tls_client_auth × certificate-bound
let owner: TestClient; // Security Profile, tls_client_auth × DPoP, every grant type
let mtlsOwner: TestClient; // Security Profile, tls_client_auth × certificate-bound, client_credentials
let third: TestClient; // an unrelated client
let rs: TestClient; // the resource server's introspection client, client_id 'rs-client'

before(async () => {
  server = await startTestServer({
    config: {
      resourceServers: [
        { identifier: API, scopes: ['accounts'], accessTokenFormat: 'opaque', introspectionClients: ['rs-client'] },
        { identifier: OTHER_API, scopes: ['payments'], accessTokenFormat: 'opaque' },
        { identifier: JWT_API, scopes: ['records'], accessTokenFormat: 'jwt' },
      ],
    },
  });
  user = await createTestUser(server);
  const all = ['authorization_code', 'refresh_token', 'client_credentials'];
  [ms, owner, mtlsOwner, third] = await Promise.all([
    registerTestClient(server, { auth: 'tls_client_auth', binding: 'mtls', messageSigning: true }),
    registerTestClient(server, { auth: 'tls_client_auth', binding: 'dpop', grantTypes: all }),
    registerTestClient(server, { auth: 'tls_client_auth', binding: 'mtls', grantTypes: all }),
    registerTestClient(server, { auth: 'tls_client_auth', binding: 'mtls', grantTypes: all }),
  ]);
  const registered = await registerTestClient(server, { auth: 'tls_client_auth', binding: 'mtls', grantTypes: ['client_credentials'], metadata: { client_id: 'rs-client' } });
  rs = { ...registered, clientId: 'rs-client' };
});
after(() => server.close());

// ---------------------------------------------------------------------------------------------
// M1–M2 request objects at PAR
// ---------------------------------------------------------------------------------------------

describe('M1 Message Signing clients must use request objects', () => {
  it('M1: plain form parameters at PAR → 400 invalid_request', async () => {
    const { params } = await authorizationParams(ms);
    const r = await send('/par', { form: params, dispatcher: ms.dispatcher });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error, 'invalid_request');
    assert.equal(r.json.request_uri, undefined);
  });

  it('M1: parameters outside the request object are ignored (state, nonce, scope, redirect_uri, response_mode)', async () => {
    const p = await push(ms, {}, { state: 'outside-state', nonce: 'outside-nonce', scope: 'openid email phone', redirect_uri: EVIL_REDIRECT, response_mode: 'query' });
    assert.equal(p.reply.status, 201, p.reply.text);
    const cb = await authorize(p);
    assert.equal(`${cb.origin}${cb.pathname}`, ms.redirectUri, 'the registered redirect URI from the request object');
    assert.equal(cb.searchParams.get('state'), null, 'response_mode=jwt from the request object, not query');
    const jarm = decodeJwt(cb.searchParams.get('response')!);
    assert.equal(jarm.state, p.state);
    const r = await redeem(ms, String(jarm.code), p.verifier);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(String(r.json.scope).split(' ').sort(), ['openid']);
    assert.equal(decodeJwt(String(r.json.id_token)).nonce, p.nonce);
  });
});

describe('M2 request object validation', () => {
  const parWith = async (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key?: CryptoKey) => {
    const { params } = await authorizationParams(ms);
    return send('/par', { form: { client_id: ms.clientId, request: await requestObject(ms, params, claims, header, key) }, dispatcher: ms.dispatcher });
  };

  it('M2: control — a well-formed request object (typ oauth-authz-req+jwt) → 201', async () => {
    const r = await parWith();
    assert.equal(r.status, 201, r.text);
    assert.ok(r.json.request_uri);
  });

  it('M2: control — aud as an array containing the issuer is accepted', async () => {
    const r = await parWith({ aud: [server.issuer, 'https://someone-else.example.com'] });
    assert.equal(r.status, 201, r.text);
  });

  const cases: Array<[string, () => Promise<Reply>]> = [
    ['exp missing', () => parWith({ exp: undefined })],
    ['nbf missing', () => parWith({ nbf: undefined })],
    ['nbf more than 60 min in the past', () => parWith({ nbf: now() - 3660, iat: now() - 3660, exp: now() + 60 })],
    ['exp − nbf more than 60 min', () => parWith({ exp: now() + 3700 })],
    ['exp in the past', () => parWith({ nbf: now() - 600, iat: now() - 600, exp: now() - 120 })],
    ['nbf in the future', () => parWith({ nbf: now() + 600, exp: now() + 900 })],
    ['wrong aud', () => parWith({ aud: 'https://as.example.com' })],
    ['aud array without the issuer', () => parWith({ aud: ['https://as.example.com'] })],
    ['iss ≠ client_id', () => parWith({ iss: 'someone-else' })],
    ['iss missing', () => parWith({ iss: undefined })],
    ['signed with an unregistered key', async () => parWith({}, {}, (await generateKeyPair('ES256')).privateKey)],
    ['alg none', async () => {
      const { params } = await authorizationParams(ms);
      const t = now();
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const unsigned = `${b64({ alg: 'none', typ: 'oauth-authz-req+jwt' })}.${b64({ ...params, iss: ms.clientId, aud: server.issuer, iat: t, nbf: t, exp: t + 300 })}.`;
      return send('/par', { form: { client_id: ms.clientId, request: unsigned }, dispatcher: ms.dispatcher });
    }],
    ['alg RS256', async () => {
      const rsa = await generateKeyPair('RS256', { modulusLength: 2048 });
      return parWith({}, { alg: 'RS256' }, rsa.privateKey);
    }],
    ['client_id inside differs from the authenticated client', () => parWith({ client_id: third.clientId })],
  ];
  for (const [name, run] of cases) {
    it(`M2: ${name} → 400 invalid_request_object`, async () => {
      const r = await run();
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error, 'invalid_request_object', r.text);
      assert.equal(r.json.request_uri, undefined);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// M3 JARM, M4 JWT introspection responses
// ---------------------------------------------------------------------------------------------

describe('M3 JARM responses', () => {
  it('M3: the authorization response is a signed JWT with iss, aud=client_id, exp, code, state', async () => {
    const p = await push(ms);
    const cb = await authorize(p);
    assert.deepEqual([...cb.searchParams.keys()], ['response'], 'only the JWT travels in the URL');
    const jwt = cb.searchParams.get('response')!;
    assert.ok(ALLOWED_ALGS.includes(String(decodeProtectedHeader(jwt).alg)));
    const { payload } = await jwtVerify(jwt, await serverJwks(), { issuer: server.issuer, audience: ms.clientId, algorithms: ALLOWED_ALGS });
    assert.equal(payload.aud, ms.clientId);
    assert.ok(typeof payload.exp === 'number' && payload.exp > now());
    assert.ok(payload.code);
    assert.equal(payload.state, p.state);
  });

  it('M3: the error case (consent denied) is a JARM JWT carrying error=access_denied', async () => {
    // prompt=consent: the person's earlier consent to this client is remembered across sign-ins.
    const p = await push(ms, { prompt: 'consent' });
    const cb = await authorize(p, newUa(), { consent: 'deny' });
    assert.equal(cb.searchParams.get('error'), null, 'the error is inside the JWT');
    const { payload } = await jwtVerify(cb.searchParams.get('response')!, await serverJwks(), { issuer: server.issuer, audience: ms.clientId, algorithms: ALLOWED_ALGS });
    assert.equal(payload.error, 'access_denied');
    assert.equal(payload.state, p.state);
    assert.ok(payload.exp);
    assert.equal(payload.code, undefined);
  });
});

describe('M4 JWT introspection responses', () => {
  it('M4: Accept: application/token-introspection+jwt → a signed JWT (typ token-introspection+jwt) with the introspection result', async () => {
    const cc = await clientCredentials(mtlsOwner, {});
    assert.equal(cc.status, 200, cc.text);
    const r = await introspect(mtlsOwner, String(cc.json.access_token), { accept: 'application/token-introspection+jwt' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^application\/token-introspection\+jwt/);
    const header = decodeProtectedHeader(r.text);
    assert.equal(header.typ, 'token-introspection+jwt');
    assert.ok(ALLOWED_ALGS.includes(String(header.alg)));
    const { payload } = await jwtVerify(r.text, await serverJwks(), { issuer: server.issuer, audience: mtlsOwner.clientId, algorithms: ALLOWED_ALGS, typ: 'token-introspection+jwt' });
    assert.ok(payload.iat);
    const result = payload.token_introspection as Record<string, unknown>;
    assert.equal(result.active, true);
    assert.equal(result.client_id, mtlsOwner.clientId);
    assert.equal((result.cnf as Record<string, string>)['x5t#S256'], mtlsOwner.cert!.thumbprint);

    const inactive = await introspect(mtlsOwner, 'not-a-token', { accept: 'application/token-introspection+jwt' });
    assert.deepEqual((await jwtVerify(inactive.text, await serverJwks(), { algorithms: ALLOWED_ALGS })).payload.token_introspection, { active: false });
  });
});

// ---------------------------------------------------------------------------------------------
// I1 introspection access policy, resource servers; I2 revocation
// ---------------------------------------------------------------------------------------------

describe('I1 introspection', () => {
  let userTokens: { access_token: string; refresh_token?: string; grant_id?: string };
  before(async () => { userTokens = await tokensFor(owner, { scope: 'openid offline_access', prompt: 'consent' }); });

  it('I1: control — the token\'s own client sees active, scope, client_id, sub, exp, iat, cnf, token_type and grant_id', async () => {
    const r = await introspect(owner, userTokens.access_token);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.active, true);
    for (const field of ['scope', 'client_id', 'sub', 'exp', 'iat', 'cnf', 'token_type', 'grant_id']) assert.ok(r.json[field] !== undefined, `field ${field}: ${r.text}`);
    assert.equal(r.json.sub, user.id);
    assert.equal(r.json.token_type, 'DPoP');
    // Grant Management: the grant the token came from, as the token response named it.
    assert.ok(userTokens.grant_id);
    assert.equal(r.json.grant_id, userTokens.grant_id);
  });

  it('I1: a third client introspecting another client\'s access or refresh token sees only {"active":false}', async () => {
    for (const token of [userTokens.access_token, userTokens.refresh_token!]) {
      const r = await introspect(third, token);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { active: false });
    }
  });

  it('I1: an unauthenticated caller → 401 invalid_client', async () => {
    const r = await send('/token/introspection', { form: { token: userTokens.access_token, client_id: owner.clientId }, dispatcher: server.dispatcher() });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error, 'invalid_client');
    assert.equal(r.json.active, undefined);
  });

  it('I1: the resource server\'s client introspects tokens issued for its API, and only those', async () => {
    const forApi = await clientCredentials(owner, { resource: API, scope: 'accounts' });
    assert.equal(forApi.status, 200, forApi.text);
    const seen = await introspect(rs, String(forApi.json.access_token));
    assert.equal(seen.json.active, true, seen.text);
    assert.equal(seen.json.client_id, owner.clientId);
    assert.ok([seen.json.aud].flat().includes(API), `aud ${JSON.stringify(seen.json.aud)}`);
    assert.equal(seen.json.scope, 'accounts');

    const forOther = await clientCredentials(owner, { resource: OTHER_API, scope: 'payments' });
    assert.equal(forOther.status, 200, forOther.text);
    assert.deepEqual((await introspect(rs, String(forOther.json.access_token))).json, { active: false }, 'another API\'s token');
    assert.deepEqual((await introspect(rs, userTokens.access_token)).json, { active: false }, 'a token without audience (UserInfo)');
    assert.deepEqual((await introspect(third, String(forApi.json.access_token))).json, { active: false }, 'an unrelated client');
  });

  it('I1: client_credentials with a resource indicator yields a sender-constrained token for that API (DPoP and mTLS)', async () => {
    const dpop = await clientCredentials(owner, { resource: API, scope: 'accounts' });
    assert.equal(dpop.status, 200, dpop.text);
    assert.equal(dpop.json.token_type, 'DPoP');
    assert.equal(dpop.json.scope, 'accounts');
    const dpopInfo = (await introspect(owner, String(dpop.json.access_token))).json;
    assert.equal((dpopInfo.cnf as { jkt: string }).jkt, await calculateJwkThumbprint(await exportJWK(owner.dpopKeys!.publicKey)));
    assert.ok([dpopInfo.aud].flat().includes(API));

    const mtls = await clientCredentials(mtlsOwner, { resource: API, scope: 'accounts' });
    assert.equal(mtls.status, 200, mtls.text);
    const mtlsInfo = (await introspect(mtlsOwner, String(mtls.json.access_token))).json;
    assert.equal((mtlsInfo.cnf as Record<string, string>)['x5t#S256'], mtlsOwner.cert!.thumbprint);
  });

  it('I1: an unknown resource indicator → 400 invalid_target', async () => {
    const r = await clientCredentials(owner, { resource: 'https://unknown.example.com', scope: 'accounts' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error, 'invalid_target');
  });

  it('I1: a JWT-format resource server gets an RFC 9068 access token (typ at+jwt, allowed alg, cnf)', async () => {
    const r = await clientCredentials(owner, { resource: JWT_API, scope: 'records' });
    assert.equal(r.status, 200, r.text);
    const at = String(r.json.access_token);
    const header = decodeProtectedHeader(at);
    assert.equal(header.typ, 'at+jwt');
    assert.ok(ALLOWED_ALGS.includes(String(header.alg)), `alg ${header.alg}`);
    const { payload } = await jwtVerify(at, await serverJwks(), { issuer: server.issuer, audience: JWT_API, algorithms: ALLOWED_ALGS, typ: 'at+jwt' });
    for (const claim of ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']) assert.ok(payload[claim] !== undefined, `claim ${claim}`);
    assert.equal(payload.client_id, owner.clientId);
    assert.equal((payload.cnf as { jkt: string }).jkt, await calculateJwkThumbprint(await exportJWK(owner.dpopKeys!.publicKey)));
  });
});

describe('I2 revocation', () => {
  const revoke = (tc: TestClient, token: string, hint?: string) => send('/token/revocation', {
    form: { token, ...(hint ? { token_type_hint: hint } : {}), ...auth(tc) }, dispatcher: tc.dispatcher,
  });

  it('I2: revoking a refresh token revokes the access tokens of the same grant', async () => {
    const t = await tokensFor(owner, { scope: 'openid offline_access', prompt: 'consent' });
    assert.equal((await introspect(owner, t.access_token)).json.active, true, 'control: active before');
    const r = await revoke(owner, t.refresh_token!, 'refresh_token');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((await introspect(owner, t.refresh_token!)).json, { active: false });
    assert.deepEqual((await introspect(owner, t.access_token)).json, { active: false });
    const ui = await send('/userinfo', { method: 'GET', headers: { authorization: `DPoP ${t.access_token}`, dpop: await proof(owner.dpopKeys!, 'GET', '/userinfo', t.access_token) }, dispatcher: owner.dispatcher });
    assert.equal(ui.status, 401, ui.text);
  });

  it('I2: another client cannot revoke a token it was not issued (refused, token stays active)', async () => {
    const t = await tokensFor(owner, { scope: 'openid offline_access', prompt: 'consent' });
    const r = await revoke(third, t.refresh_token!);
    assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${r.text}`);
    assert.equal((await introspect(owner, t.refresh_token!)).json.active, true);
    assert.equal((await introspect(owner, t.access_token)).json.active, true);
  });
});

// ---------------------------------------------------------------------------------------------
// O1 UserInfo, O2 prompt / max_age / acr, O3 redirect URIs
// ---------------------------------------------------------------------------------------------

describe('O1 UserInfo', () => {
  it('O1: UserInfo answers GET and POST with the DPoP-bound token; sub equals the ID token\'s', async () => {
    const t = await tokensFor(owner, { scope: 'openid email' });
    const sub = decodeJwt(t.id_token!).sub;
    const get = await send('/userinfo', { method: 'GET', headers: { authorization: `DPoP ${t.access_token}`, dpop: await proof(owner.dpopKeys!, 'GET', '/userinfo', t.access_token) }, dispatcher: owner.dispatcher });
    assert.equal(get.status, 200, get.text);
    assert.equal(get.json.sub, sub);
    assert.equal(get.json.email, `${user.username}@example.jp`);
    const post = await send('/userinfo', { method: 'POST', form: {}, headers: { authorization: `DPoP ${t.access_token}`, dpop: await proof(owner.dpopKeys!, 'POST', '/userinfo', t.access_token) }, dispatcher: owner.dispatcher });
    assert.equal(post.status, 200, post.text);
    assert.deepEqual(post.json, get.json);
  });

  it('O1: a token without the openid scope cannot read UserInfo (403 insufficient_scope)', async () => {
    const cc = await clientCredentials(owner, {});
    assert.equal(cc.status, 200, cc.text);
    const r = await send('/userinfo', { method: 'GET', headers: { authorization: `DPoP ${cc.json.access_token}`, dpop: await proof(owner.dpopKeys!, 'GET', '/userinfo', String(cc.json.access_token)) }, dispatcher: owner.dispatcher });
    assert.ok([401, 403].includes(r.status), `${r.status} ${r.text}`);
    assert.equal(r.json.sub, undefined);
  });
});

describe('O2 prompt, max_age and acr', () => {
  const authTimeOf = async (p: Pushed, cb: URL) => {
    const code = cb.searchParams.get('code');
    assert.ok(code, `no code: ${cb}`);
    const r = await redeem(owner, code, p.verifier);
    assert.equal(r.status, 200, r.text);
    const claims = decodeJwt(String(r.json.id_token));
    assert.equal(claims.nonce, p.nonce);
    return Number(claims.auth_time);
  };
  const isLoginPage = (body: string | undefined) => /action="\/interaction\/[^"]+\/login"/.test(body ?? '');

  it('O2: prompt=none without a session → login_required at the redirect URI (with iss)', async () => {
    const p = await push(owner, { prompt: 'none' });
    assert.equal(p.reply.status, 201, p.reply.text);
    const step = await newUa().follow(p.authorizationUrl);
    assert.ok(step.redirect, `expected a redirect to the client, got ${step.page?.status}`);
    const cb = new URL(step.redirect);
    assert.equal(`${cb.origin}${cb.pathname}`, owner.redirectUri);
    assert.equal(cb.searchParams.get('error'), 'login_required');
    assert.equal(cb.searchParams.get('state'), p.state);
    assert.equal(cb.searchParams.get('iss'), server.issuer);
    assert.equal(cb.searchParams.get('code'), null);
  });

  it('O2: prompt=login and max_age=0 force sign-in again with a newer auth_time (SSO otherwise)', async () => {
    const ua = newUa();
    const first = await push(owner, { max_age: '3600', prompt: 'consent' });
    const t1 = await authTimeOf(first, await authorize(first, ua));
    await sleep(1100);

    // Control: with the session, prompt=none gets a code at once and the original auth_time.
    const sso = await push(owner, { max_age: '3600', prompt: 'none' });
    const ssoStep = await ua.follow(sso.authorizationUrl);
    assert.ok(ssoStep.redirect, 'SSO without a sign-in page');
    assert.equal(await authTimeOf(sso, new URL(ssoStep.redirect)), t1);

    for (const extra of [{ prompt: 'login', max_age: '3600' }, { max_age: '0' }]) {
      const p = await push(owner, extra);
      const firstPage = await ua.authorize(p.authorizationUrl, { stopAtFirstPage: true });
      assert.ok(isLoginPage(firstPage.page?.body), `${JSON.stringify(extra)}: the sign-in page is shown again (got ${firstPage.page?.status} / ${firstPage.callback})`);
      const t2 = await authTimeOf(p, await authorize(p, ua));
      assert.ok(t2 > t1, `${JSON.stringify(extra)}: auth_time ${t2} newer than ${t1}`);
    }
  });

  for (const [name, extra] of [
    ['acr_values=urn:sekisho:aal2 only', { acr_values: 'urn:sekisho:aal2' }],
    ['an essential acr claim urn:sekisho:aal2', { claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:sekisho:aal2' } } }) }],
    ['an essential acr claim with values [aal2, aal3]', { claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:sekisho:aal2', 'urn:sekisho:aal3'] } } }) }],
  ] as const) {
    it(`O2: ${name} with a password-only user → unmet_authentication_requirements`, async () => {
      const p = await push(owner, extra);
      const cb = await authorize(p);
      assert.equal(cb.searchParams.get('error'), 'unmet_authentication_requirements', cb.toString());
      assert.equal(cb.searchParams.get('code'), null);
      assert.equal(cb.searchParams.get('iss'), server.issuer);
    });
  }

  it('O2: control — acr_values listing aal1 among others is met by a password and returned as acr', async () => {
    const p = await push(owner, { acr_values: 'urn:sekisho:aal2 urn:sekisho:aal1' });
    const cb = await authorize(p);
    const r = await redeem(owner, cb.searchParams.get('code')!, p.verifier);
    assert.equal(r.status, 200, r.text);
    assert.equal(decodeJwt(String(r.json.id_token)).acr, 'urn:sekisho:aal1');
  });
});

describe('O3 unregistered redirect URIs', () => {
  it('O3: an unregistered redirect_uri at PAR → 400 error response, no redirect, no request_uri', async () => {
    const p = await push(owner, { redirect_uri: EVIL_REDIRECT });
    assert.equal(p.reply.status, 400, p.reply.text);
    assert.ok(['invalid_request', 'invalid_redirect_uri'].includes(String(p.reply.json.error)), p.reply.text);
    assert.equal(p.reply.headers.get('location'), null);
    assert.equal(p.reply.json.request_uri, undefined);
  });

  it('O3: an unregistered redirect_uri at the authorization endpoint → an error page, never a redirect', async () => {
    const verifier = oauth.generateRandomCodeVerifier();
    const variants: Array<Record<string, string>> = [
      { client_id: owner.clientId, response_type: 'code', scope: 'openid', redirect_uri: EVIL_REDIRECT, state: 's', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' },
      { client_id: 'no-such-client', response_type: 'code', scope: 'openid', redirect_uri: EVIL_REDIRECT, state: 's' },
      { client_id: owner.clientId, request_uri: 'urn:ietf:params:oauth:request_uri:does-not-exist', redirect_uri: EVIL_REDIRECT, state: 's' },
    ];
    for (const query of variants) {
      const u = new URL(`${server.issuer}/auth`);
      for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
      const r = await send(u.toString(), { method: 'GET', dispatcher: server.dispatcher() });
      assert.ok(r.status >= 400 && r.status < 500, `${u.search}: ${r.status}`);
      assert.equal(r.headers.get('location'), null, `${u.search}: no redirect`);
      assert.match(r.headers.get('content-type') ?? '', /text\/html/);
      assert.ok(!r.text.includes('evil.example.com'), 'the page does not link to the unregistered URI');
    }
  });

  it('O3: a redirect_uri added next to a valid request_uri is ignored (never redirected to)', async () => {
    const p = await push(owner);
    const u = new URL(p.authorizationUrl);
    u.searchParams.set('redirect_uri', EVIL_REDIRECT);
    u.searchParams.set('prompt', 'none');
    const step = await newUa().follow(u.toString());
    if (step.redirect) assert.ok(step.redirect.startsWith(owner.redirectUri), `redirected to ${step.redirect}`);
    else assert.ok(step.page && step.page.status < 500);
  });
});
