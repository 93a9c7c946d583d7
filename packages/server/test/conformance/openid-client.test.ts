/**
 * The same flows driven by openid-client (v6), a second real, unmodified client: Security Profile
 * with private_key_jwt + DPoP, and Message Signing (JAR through PAR, JARM) with
 * self_signed_tls_client_auth + certificate-bound tokens. Ends with RP-initiated logout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient, type TestClient } from '../support/clients.ts';
import { createTestUser, type TestUser } from '../support/users.ts';
import { createUserAgent } from '../support/user-agent.ts';

let server: TestServer;
let user: TestUser;
before(async () => {
  server = await startTestServer();
  user = await createTestUser(server);
});
after(() => server.close());

async function configure(tc: TestClient): Promise<client.Configuration> {
  const kid = String((tc.metadata.jwks as { keys: Array<{ kid: string }> }).keys[0]!.kid);
  const auth = tc.metadata.token_endpoint_auth_method === 'private_key_jwt' ? client.PrivateKeyJwt({ key: tc.privateKey, kid }) : client.TlsClientAuth();
  const customFetch = ((url: string, options: RequestInit) => fetch(url, { ...options, dispatcher: tc.dispatcher } as RequestInit)) as client.CustomFetch;
  const config = await client.discovery(new URL(server.issuer), tc.clientId, {
    ...(tc.metadata.require_signed_request_object ? { authorization_signed_response_alg: 'ES256' } : {}),
    ...(tc.cert ? { use_mtls_endpoint_aliases: true } : {}),
  }, auth, { [client.customFetch]: customFetch });
  config[client.customFetch] = customFetch;
  if (tc.metadata.require_signed_request_object) client.useJwtResponseMode(config);
  return config;
}

describe('openid-client', () => {
  it('Security Profile: private_key_jwt + DPoP, PAR, userinfo, refresh, introspection, revocation, logout', async () => {
    const tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', metadata: { post_logout_redirect_uris: ['https://client.example.com/bye'] } });
    const config = await configure(tc);
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: tc.redirectUri, scope: 'openid profile email offline_access', prompt: 'consent',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce,
    }, { DPoP });
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);

    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const { callback } = await ua.authorize(url.href, { username: user.username, password: user.password });
    assert.ok(callback);
    const tokens = await client.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }, undefined, { DPoP });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    const claims = tokens.claims()!;
    assert.equal(claims.sub, user.id);

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP });
    assert.equal(userinfo.email, `${user.username}@example.jp`);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    assert.ok(refreshed.access_token);
    const introspection = await client.tokenIntrospection(config, refreshed.access_token);
    assert.equal(introspection.active, true);
    assert.equal(introspection.token_type, 'DPoP');
    await client.tokenRevocation(config, tokens.refresh_token!);
    assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, false);

    // RP-initiated logout: the confirmation page, then back to the registered post-logout URI.
    const logoutUrl = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://client.example.com/bye', state: 'bye-state' });
    const confirm = await ua.follow(logoutUrl.href);
    assert.equal(confirm.page?.status, 200);
    const form = /<form[^>]*action="([^"]+)"[^>]*id="op.logoutForm"|<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"/.exec(confirm.page!.body);
    assert.ok(form, 'logout form present');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.page!.body)![1]!;
    const done = await ua.post(new URL(form[1] ?? form[2]!, server.issuer).href, { xsrf, logout: 'yes' });
    assert.equal(done.status, 303);
    const back = new URL(done.headers.get('location')!);
    assert.equal(`${back.origin}${back.pathname}`, 'https://client.example.com/bye');
    assert.equal(back.searchParams.get('state'), 'bye-state');
  });

  it('Message Signing: self_signed_tls_client_auth + mTLS-bound tokens, JAR via PAR, JARM', async () => {
    const tc = await registerTestClient(server, { auth: 'self_signed_tls_client_auth', binding: 'mtls', messageSigning: true });
    const config = await configure(tc);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const kid = String((tc.metadata.jwks as { keys: Array<{ kid: string }> }).keys[0]!.kid);
    const jar = await client.buildAuthorizationUrlWithJAR(config, {
      redirect_uri: tc.redirectUri, scope: 'openid profile', response_mode: 'jwt',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce,
    }, { key: tc.privateKey, kid });
    const url = await client.buildAuthorizationUrlWithPAR(config, jar.searchParams);
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const { callback } = await ua.authorize(url.href, { username: user.username, password: user.password });
    assert.ok(callback);
    assert.ok(new URL(callback).searchParams.get('response'), 'JARM response');
    const tokens = await client.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    assert.equal(userinfo.sub, user.id);
    const introspection = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal((introspection.cnf as Record<string, string>)['x5t#S256'], tc.cert!.thumbprint);
  });
});
