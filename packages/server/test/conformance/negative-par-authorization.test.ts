/**
 * Negative conformance tests for fapi2.md sections P (pushed authorization requests) and A
 * (authorization response). Every test names its rule ID and asserts what a client or the OpenID
 * conformance suite observes from outside. Hand-made requests use fetch + jose; the authorization
 * leg uses the scripted browser. Network, discovery and client authentication:
 * negative-network-discovery-clients.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import type { Dispatcher } from 'undici';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient, REDIRECT_URI, type TestClient } from '../support/clients.ts';
import { discover, runCodeFlow, withNonceRetry } from '../support/flow.ts';
import { createUserAgent, type UserAgent } from '../support/user-agent.ts';
import { createTestUser, type TestUser } from '../support/users.ts';
import { ASSERTION_TYPE, authRequest, kidOf, now, postForm, type Reply } from '../support/requests.ts';

const PAR_URN = 'urn:ietf:params:oauth:request_uri:';

let server: TestServer;
let user: TestUser;
let as: oauth.AuthorizationServer;
/** private_key_jwt × DPoP, the main client; `ua` holds its signed-in session and consent. */
let pkj: TestClient;
let other: TestClient;
let ua: UserAgent;

before(async () => {
  server = await startTestServer();
  user = await createTestUser(server);
  [pkj, other] = await Promise.all([
    registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' }),
    registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' }),
  ]);
  as = await discover(server, pkj);
  ua = createUserAgent(server.dispatcher(), server.issuer);
  // One real sign-in + consent: later authorizations of pkj in `ua` go straight back to the client,
  // so a test can look at the very response that redirects (status, parameters).
  await runCodeFlow(server, pkj, { username: user.username, password: user.password }, {}, ua);
});
after(() => server.close());

// ---------------------------------------------------------------------------------------------
// Hand-made requests



/** A correct client assertion (RFC 7523) for `tc`. */
async function clientAssertion(tc: TestClient): Promise<string> {
  return new SignJWT({ iss: tc.clientId, sub: tc.clientId, aud: server.issuer, jti: randomUUID(), iat: now(), exp: now() + 60 })
    .setProtectedHeader({ alg: 'ES256', kid: kidOf(tc) }).sign(tc.privateKey);
}


/** POST /par authenticated as `tc` (client assertion unless given, or mTLS through tc.dispatcher). */
async function par(tc: TestClient, params: Record<string, string>, auth: { assertion?: string | null; headers?: Record<string, string>; dispatcher?: Dispatcher } = {}): Promise<Reply> {
  const form = { ...params };
  if (tc.metadata.token_endpoint_auth_method === 'private_key_jwt' && auth.assertion !== null) {
    form.client_assertion_type = ASSERTION_TYPE;
    form.client_assertion = auth.assertion ?? await clientAssertion(tc);
  }
  return postForm(as.pushed_authorization_request_endpoint!, form, auth.dispatcher ?? tc.dispatcher, auth.headers);
}

async function pushed(tc: TestClient, extra: Record<string, string> = {}, omit: string[] = []) {
  const req = await authRequest(tc, extra, omit);
  const res = await par(tc, req.params);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { ...req, requestUri: String(res.body.request_uri), expiresIn: Number(res.body.expires_in) };
}

const authUrl = (clientId: string, requestUri: string, extra: Record<string, string> = {}) =>
  `${as.authorization_endpoint}?${new URLSearchParams({ client_id: clientId, request_uri: requestUri, ...extra })}`;

interface Outcome { status: number; location?: URL; error?: string | null; body?: string }

/** Follows redirects inside the issuer; stops at the first redirect to the client (keeping its status) or a page. */
async function toClient(url: string, agent: UserAgent = ua, init?: RequestInit): Promise<Outcome> {
  const origin = new URL(server.issuer).origin;
  let current = url;
  let res = await agent.request(current, init);
  for (let hops = 0; hops < 10; hops++) {
    if (res.status < 300 || res.status >= 400) {
      const body = await res.text();
      return { status: res.status, body, error: /<code>([a-z_]+)<\/code>/.exec(body)?.[1] ?? null };
    }
    const location = new URL(res.headers.get('location')!, current);
    await res.arrayBuffer();
    if (location.origin !== origin) return { status: res.status, location, error: location.searchParams.get('error') };
    current = location.toString();
    res = await agent.request(current);
  }
  throw new Error('too many redirects');
}

async function dpopProof(keys: CryptoKeyPair, htm: string, htu: string): Promise<string> {
  return new SignJWT({ htm, htu, jti: randomUUID(), iat: now() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) }).sign(keys.privateKey);
}

/** Authorization code → tokens with oauth4webapi (DPoP with `keys`). */
async function redeem(tc: TestClient, callback: URL, verifier: string, state: string | undefined, nonce: string | undefined, keys = tc.dpopKeys) {
  const params = oauth.validateAuthResponse(as, tc.client, callback, state ?? oauth.expectNoState);
  const DPoP = keys ? oauth.DPoP(tc.client, keys) : undefined;
  return withNonceRetry(async () => oauth.processAuthorizationCodeResponse(as, tc.client,
    await oauth.authorizationCodeGrantRequest(as, tc.client, tc.clientAuth, params, tc.redirectUri, verifier, { ...tc.options, ...(DPoP ? { DPoP } : {}) }),
    { ...(nonce ? { expectedNonce: nonce } : {}), requireIdToken: true }));
}

// ---------------------------------------------------------------------------------------------

describe('P: pushed authorization requests', () => {
  it('P1: an authorization request that did not come through PAR is refused (GET → invalid_request, POST → 4xx), no code issued', async () => {
    // `ua` is signed in and has consented: without the PAR rule this request would return a code at once.
    const { params } = await authRequest(pkj);
    const get = await toClient(`${as.authorization_endpoint}?${new URLSearchParams(params)}`);
    assert.equal(get.error, 'invalid_request', `${get.status} ${get.location ?? get.body?.slice(0, 200)}`);
    assert.equal(get.location?.searchParams.get('code') ?? null, null);
    assert.equal(get.location?.searchParams.get('iss') ?? server.issuer, server.issuer);
    // The authorization endpoint does not take POST at all (oidc-provider enableHttpPostMethods off).
    const post = await toClient(as.authorization_endpoint!, ua, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
    assert.ok(post.status >= 400 && post.status < 500, `POST: ${post.status}`);
    assert.equal(post.location, undefined);
  });

  it('P1: a signed request object or an external request_uri at the authorization endpoint is refused', async () => {
    const { params } = await authRequest(pkj);
    const request = await new SignJWT({ ...params, iss: pkj.clientId, aud: server.issuer, nbf: now(), exp: now() + 60 })
      .setProtectedHeader({ alg: 'ES256', kid: kidOf(pkj), typ: 'oauth-authz-req+jwt' }).sign(pkj.privateKey);
    const viaRequest = await toClient(`${as.authorization_endpoint}?${new URLSearchParams({ client_id: pkj.clientId, request })}`);
    assert.equal(viaRequest.error, 'invalid_request', `${viaRequest.status} ${viaRequest.location}`);
    const external = await toClient(authUrl(pkj.clientId, 'https://client.example.com/request.jwt'));
    assert.ok(['invalid_request_uri', 'request_uri_not_supported', 'invalid_request'].includes(String(external.error)), `${external.status} ${external.error}`);
    assert.equal(external.location?.searchParams.get('code') ?? null, null);
  });

  it('P2: POST /par → 201 with request_uri (urn) and 0 < expires_in < 600, no-store; unauthenticated → 401', async () => {
    const { params } = await authRequest(pkj);
    const res = await par(pkj, params);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok(String(res.body.request_uri).startsWith(PAR_URN));
    assert.equal(typeof res.body.expires_in, 'number');
    assert.ok((res.body.expires_in as number) > 0 && (res.body.expires_in as number) < 600, String(res.body.expires_in));
    assert.match(res.headers.get('cache-control') ?? '', /no-store/);
    const anonymous = await par(pkj, params, { assertion: null });
    assert.deepEqual([anonymous.status, anonymous.body.error], [401, 'invalid_client']);
  });

  it('P3: PAR without PKCE → 400 invalid_request', async () => {
    const res = await par(pkj, (await authRequest(pkj, {}, ['code_challenge', 'code_challenge_method'])).params);
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_request'], JSON.stringify(res.body));
  });

  it('P3: code_challenge_method plain, missing, or unknown → 400 invalid_request', async () => {
    const verifier = oauth.generateRandomCodeVerifier();
    for (const [extra, omit] of [[{ code_challenge_method: 'plain', code_challenge: verifier }, []], [{}, ['code_challenge_method']], [{ code_challenge_method: 'S512' }, []]] as const) {
      const res = await par(pkj, (await authRequest(pkj, extra, [...omit])).params);
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_request'], `${JSON.stringify(extra)} −${omit}: ${JSON.stringify(res.body)}`);
    }
  });

  it('P4: redirect_uri missing → 400 invalid_request', async () => {
    const res = await par(pkj, (await authRequest(pkj, {}, ['redirect_uri'])).params);
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_request'], JSON.stringify(res.body));
  });

  it('P4: redirect_uri not exactly a registered one (http, case, slash, query, other host) → 400', async () => {
    for (const uri of ['http://client.example.com/callback', 'https://CLIENT.example.com/Callback', 'https://client.example.com/callback/', 'https://client.example.com/callback?x=1', 'https://evil.example/callback', 'http://127.0.0.1/callback']) {
      const res = await par(pkj, (await authRequest(pkj, { redirect_uri: uri })).params);
      assert.equal(res.status, 400, `${uri}: ${JSON.stringify(res.body)}`);
      assert.ok(['invalid_request', 'invalid_redirect_uri'].includes(String(res.body.error)), `${uri}: ${JSON.stringify(res.body)}`);
    }
  });

  it('P4: an http redirect_uri works only when it is a registered loopback one', async () => {
    const loopback = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', metadata: { redirect_uris: [REDIRECT_URI, 'http://127.0.0.1:8080/cb'] } });
    const ok = await par(loopback, (await authRequest(loopback, { redirect_uri: 'http://127.0.0.1:8080/cb' })).params);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    for (const uri of ['http://localhost:8080/cb', 'http://127.0.0.1:8080/other', 'https://127.0.0.1:8080/cb']) {
      const res = await par(loopback, (await authRequest(loopback, { redirect_uri: uri })).params);
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_request'], `${uri}: ${JSON.stringify(res.body)}`);
    }
  });

  it('P5: response_type other than code → 400 unsupported_response_type / invalid_request', async () => {
    for (const type of ['token', 'id_token', 'code id_token', 'code token', 'none']) {
      const res = await par(pkj, (await authRequest(pkj, { response_type: type })).params);
      assert.equal(res.status, 400, `${type}: ${JSON.stringify(res.body)}`);
      assert.ok(['unsupported_response_type', 'invalid_request'].includes(String(res.body.error)), `${type}: ${JSON.stringify(res.body)}`);
    }
    const missing = await par(pkj, (await authRequest(pkj, {}, ['response_type'])).params);
    assert.deepEqual([missing.status, missing.body.error], [400, 'invalid_request'], JSON.stringify(missing.body));
  });

  it('P6: a request_uri parameter sent to PAR → 400 (invalid_request / request_uri_not_supported)', async () => {
    const { requestUri } = await pushed(pkj);
    const res = await par(pkj, (await authRequest(pkj, { request_uri: requestUri })).params);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    // The OpenID conformance suite accepts these three codes for RFC 9126 §2.1.
    assert.ok(['invalid_request', 'invalid_request_object', 'request_uri_not_supported'].includes(String(res.body.error)), JSON.stringify(res.body));
  });

  it('P6: a request_uri used by another client is refused (no login page, no code)', async () => {
    const { requestUri } = await pushed(pkj);
    const out = await toClient(authUrl(other.clientId, requestUri), createUserAgent(server.dispatcher(), server.issuer));
    assert.ok(['invalid_request_uri', 'invalid_request_object', 'invalid_request'].includes(String(out.error)), `${out.status} ${out.location ?? out.body?.slice(0, 300)}`);
    assert.equal(out.location?.searchParams.get('code') ?? null, null);
    assert.ok(!out.location || out.location.toString().startsWith(REDIRECT_URI));
  });

  it('P6: an expired request_uri → invalid_request_uri', async () => {
    // A pushed request object's exp shortens the request_uri's life; the server says so in expires_in.
    const { params } = await authRequest(pkj);
    const request = await new SignJWT({ ...params, iss: pkj.clientId, aud: server.issuer, nbf: now(), exp: now() + 2 })
      .setProtectedHeader({ alg: 'ES256', kid: kidOf(pkj), typ: 'oauth-authz-req+jwt' }).sign(pkj.privateKey);
    const res = await par(pkj, { client_id: pkj.clientId, request });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok((res.body.expires_in as number) <= 2, String(res.body.expires_in));
    await new Promise((r) => setTimeout(r, ((res.body.expires_in as number) + 1.5) * 1000));
    const out = await toClient(authUrl(pkj.clientId, String(res.body.request_uri)));
    assert.equal(out.error, 'invalid_request_uri', `${out.status} ${out.location ?? out.body?.slice(0, 300)}`);
  });

  it('P6: reloading a request_uri before login completes works; after the authorization completed it is refused', async () => {
    const fresh = createUserAgent(server.dispatcher(), server.issuer);
    const { requestUri, params, verifier } = await pushed(pkj);
    const url = authUrl(pkj.clientId, requestUri);
    for (let i = 0; i < 2; i++) {
      const { page } = await fresh.authorize(url, { stopAtFirstPage: true });
      assert.equal(page?.status, 200, `load ${i + 1}`);
      assert.match(page!.body, /\/login"/, 'the sign-in page');
    }
    const { callback } = await fresh.authorize(url, { username: user.username, password: user.password });
    assert.ok(callback, 'the third load still completes');
    const tokens = await redeem(pkj, new URL(callback), verifier, params.state, params.nonce);
    assert.ok(tokens.access_token);
    const reused = await toClient(url, fresh);
    assert.equal(reused.error, 'invalid_request_uri', `${reused.status} ${reused.location ?? reused.body?.slice(0, 300)}`);
    assert.equal(reused.location?.searchParams.get('code') ?? null, null);
  });

  it('P7: dpop_jkt at PAR binds the code: another DPoP key at the token endpoint → 400 invalid_grant', async () => {
    const bound = await oauth.generateKeyPair('ES256');
    const attacker = await oauth.generateKeyPair('ES256');
    const { requestUri, params, verifier } = await pushed(pkj, { dpop_jkt: await calculateJwkThumbprint(await exportJWK(bound.publicKey)) });
    const out = await toClient(authUrl(pkj.clientId, requestUri));
    assert.ok(out.location?.searchParams.get('code'), `${out.status} ${out.body?.slice(0, 200)}`);
    await assert.rejects(redeem(pkj, out.location!, verifier, params.state, params.nonce, attacker), (err: unknown) => {
      assert.ok(err instanceof oauth.ResponseBodyError, String(err));
      assert.equal(err.status, 400);
      assert.ok(['invalid_grant', 'invalid_dpop_proof'].includes(err.error), err.error);
      return true;
    });
  });

  it('P7: dpop_jkt at PAR, the same key at the token endpoint → DPoP-bound tokens (control)', async () => {
    const bound = await oauth.generateKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(bound.publicKey));
    const { requestUri, params, verifier } = await pushed(pkj, { dpop_jkt: jkt });
    const out = await toClient(authUrl(pkj.clientId, requestUri));
    const tokens = await redeem(pkj, out.location!, verifier, params.state, params.nonce, bound);
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
  });

  it('P7: a DPoP proof sent to PAR binds the code to its key: another key at the token endpoint → 400', async () => {
    const bound = await oauth.generateKeyPair('ES256');
    const attacker = await oauth.generateKeyPair('ES256');
    const req = await authRequest(pkj);
    const res = await par(pkj, req.params, { headers: { dpop: await dpopProof(bound, 'POST', as.pushed_authorization_request_endpoint!) } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const out = await toClient(authUrl(pkj.clientId, String(res.body.request_uri)));
    await assert.rejects(redeem(pkj, out.location!, req.verifier, req.params.state, req.params.nonce, attacker), (err: unknown) => {
      assert.ok(err instanceof oauth.ResponseBodyError, String(err));
      assert.ok(['invalid_grant', 'invalid_dpop_proof'].includes(err.error), err.error);
      return true;
    });
  });

  it('P7: a DPoP proof at PAR whose key disagrees with dpop_jkt → 400', async () => {
    const proofKey = await oauth.generateKeyPair('ES256');
    const otherKey = await oauth.generateKeyPair('ES256');
    const { params } = await authRequest(pkj, { dpop_jkt: await calculateJwkThumbprint(await exportJWK(otherKey.publicKey)) });
    const res = await par(pkj, params, { headers: { dpop: await dpopProof(proofKey, 'POST', as.pushed_authorization_request_endpoint!) } });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.ok(['invalid_request', 'invalid_dpop_proof'].includes(String(res.body.error)), JSON.stringify(res.body));
  });
});

describe('A: authorization response', () => {
  it('A1: a success redirect is a 303 (never 307) carrying code, iss and the exact state', async () => {
    const { requestUri, params } = await pushed(pkj);
    const out = await toClient(authUrl(pkj.clientId, requestUri));
    assert.equal(out.status, 303);
    assert.ok(out.location!.toString().startsWith(`${REDIRECT_URI}?`));
    assert.equal(out.location!.searchParams.get('iss'), server.issuer);
    assert.equal(out.location!.searchParams.get('state'), params.state);
    assert.ok(out.location!.searchParams.get('code'));
  });

  it('A1: state is not echoed when it was not sent', async () => {
    const { requestUri, verifier, params } = await pushed(pkj, {}, ['state']);
    const out = await toClient(authUrl(pkj.clientId, requestUri));
    assert.ok(out.location?.searchParams.get('code'));
    assert.equal(out.location!.searchParams.has('state'), false, out.location!.toString());
    assert.equal(out.location!.searchParams.get('iss'), server.issuer);
    assert.ok((await redeem(pkj, out.location!, verifier, undefined, params.nonce)).access_token);
  });

  it('A1/A2: the person denying consent → 303 error=access_denied with iss and state', async () => {
    const { requestUri, params } = await pushed(pkj, { prompt: 'consent' });
    const { callback } = await ua.authorize(authUrl(pkj.clientId, requestUri), { consent: 'deny' });
    assert.ok(callback, 'redirected back to the client');
    const cb = new URL(callback);
    assert.equal(cb.searchParams.get('error'), 'access_denied');
    assert.equal(cb.searchParams.get('iss'), server.issuer);
    assert.equal(cb.searchParams.get('state'), params.state);
    assert.equal(cb.searchParams.get('code'), null);
  });

  it('A1/A2: the person cancelling at sign-in → 303 error=access_denied with iss, no state when none was sent', async () => {
    const fresh = createUserAgent(server.dispatcher(), server.issuer);
    const { requestUri } = await pushed(pkj, {}, ['state']);
    const { page } = await fresh.authorize(authUrl(pkj.clientId, requestUri), { stopAtFirstPage: true });
    const uid = /\/interaction\/([^/?"]+)/.exec(page!.url)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(page!.body)![1]!;
    const abort = await fresh.post(`${server.issuer}/interaction/${uid}/abort`, { csrf });
    assert.ok(abort.status >= 300 && abort.status < 400, String(abort.status));
    const out = await toClient(new URL(abort.headers.get('location')!, server.issuer).toString(), fresh);
    assert.equal(out.status, 303);
    assert.equal(out.error, 'access_denied', `${out.status} ${out.location ?? out.body?.slice(0, 200)}`);
    assert.equal(out.location!.searchParams.get('iss'), server.issuer);
    assert.equal(out.location!.searchParams.has('state'), false);
  });

  it('A1: an error redirect (here prompt=none with no session) carries iss and state', async () => {
    const { requestUri, params } = await pushed(pkj, { prompt: 'none' });
    const out = await toClient(authUrl(pkj.clientId, requestUri), createUserAgent(server.dispatcher(), server.issuer));
    assert.equal(out.status, 303);
    assert.equal(out.error, 'login_required');
    assert.equal(out.location!.searchParams.get('iss'), server.issuer);
    assert.equal(out.location!.searchParams.get('state'), params.state);
  });

  it('A3: a 64-character nonce is carried intact into the ID token', async () => {
    const nonce = randomBytes(48).toString('base64url');
    assert.equal(nonce.length, 64);
    const { requestUri, params, verifier } = await pushed(pkj, { nonce });
    const out = await toClient(authUrl(pkj.clientId, requestUri));
    const tokens = await redeem(pkj, out.location!, verifier, params.state, nonce);
    assert.equal(oauth.getValidatedIdTokenClaims(tokens)!.nonce, nonce);
  });

  it('A3: a long state (1500 chars) and a long nonce (500 chars) are echoed intact or refused, never truncated', async () => {
    const state = randomBytes(1125).toString('base64url');
    const nonce = randomBytes(375).toString('base64url');
    const req = await authRequest(pkj, { state, nonce });
    const res = await par(pkj, req.params);
    if (res.status === 400) return; // refusing is allowed
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const out = await toClient(authUrl(pkj.clientId, String(res.body.request_uri)));
    assert.equal(out.location!.searchParams.get('state'), state);
    const tokens = await redeem(pkj, out.location!, req.verifier, state, nonce);
    assert.equal(oauth.getValidatedIdTokenClaims(tokens)!.nonce, nonce);
  });

  it('A4: unknown parameters and another scope order are accepted', async () => {
    const { requestUri, params, verifier } = await pushed(pkj, { scope: 'email openid profile', x_unknown: 'yes', foo: 'bar' });
    const out = await toClient(authUrl(pkj.clientId, requestUri));
    const tokens = await redeem(pkj, out.location!, verifier, params.state, params.nonce);
    assert.deepEqual(tokens.scope?.split(' ').sort(), ['email', 'openid', 'profile']);
  });

  it('A4: redirect_uri, state or response_mode added at the authorization endpoint are ignored', async () => {
    const { requestUri, params } = await pushed(pkj);
    const out = await toClient(authUrl(pkj.clientId, requestUri, { redirect_uri: 'https://evil.example/cb', state: 'injected', response_mode: 'fragment', scope: 'openid email' }));
    assert.equal(out.status, 303);
    assert.ok(out.location!.toString().startsWith(`${REDIRECT_URI}?`), `went to ${out.location}`);
    assert.equal(out.location!.searchParams.get('state'), params.state);
    assert.ok(out.location!.searchParams.get('code'));
  });

  it('A4/O3: an unregistered redirect_uri at the authorization endpoint gets an error page, never a redirect', async () => {
    const { params } = await authRequest(pkj, { redirect_uri: 'https://evil.example/cb' });
    const out = await toClient(`${as.authorization_endpoint}?${new URLSearchParams(params)}`);
    assert.equal(out.location, undefined, `redirected to ${out.location}`);
    assert.equal(out.status, 400);
    assert.ok(out.error, 'error code on the page');
  });
});
