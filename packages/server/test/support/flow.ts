import * as oauth from 'oauth4webapi';
import type { TestClient } from './clients.ts';
import type { TestServer } from './server.ts';
import { createUserAgent, type AuthorizeOptions, type UserAgent } from './user-agent.ts';

export async function discover(server: TestServer, tc: TestClient): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(server.issuer);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, tc.options));
}

/** Retries once when the server asks for a DPoP nonce (oauth4webapi keeps the nonce it was given). */
export async function withNonceRetry<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (oauth.isDPoPNonceError(err)) return call();
    throw err;
  }
}

export interface ParResult {
  requestUri: string;
  expiresIn: number;
  verifier: string;
  state: string;
  nonce: string;
  authorizationUrl: string;
}

/** Pushes an authorization request as the client would (a signed request object for Message Signing clients). */
export async function pushAuthorizationRequest(as: oauth.AuthorizationServer, tc: TestClient, extra: Record<string, string> = {}): Promise<ParResult> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  let params: Record<string, string> = {
    client_id: tc.clientId,
    response_type: 'code',
    redirect_uri: tc.redirectUri,
    scope: 'openid profile email offline_access',
    acr_values: 'urn:sekisho:aal1',
    // OIDC Core 11: offline_access is honoured only with prompt=consent.
    prompt: 'consent',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...(tc.metadata.require_signed_request_object ? { response_mode: 'jwt' } : {}),
    ...extra,
  };
  // `prompt: ''` in extra: no prompt parameter at all (single sign-on may then finish without a page).
  if (params.prompt === '') delete params.prompt;
  if (tc.metadata.require_signed_request_object) {
    params = { client_id: tc.clientId, request: await oauth.issueRequestObject(as, tc.client, params, { key: tc.privateKey, kid: String((tc.metadata.jwks as { keys: Array<{ kid: string }> }).keys[0]!.kid) }) };
  }
  const DPoP = tc.dpopKeys ? oauth.DPoP(tc.client, tc.dpopKeys) : undefined;
  const response = await withNonceRetry(async () => oauth.processPushedAuthorizationResponse(as, tc.client,
    await oauth.pushedAuthorizationRequest(as, tc.client, tc.clientAuth, params, { ...tc.options, ...(DPoP ? { DPoP } : {}) })));
  const authorizationUrl = new URL(as.authorization_endpoint!);
  authorizationUrl.searchParams.set('client_id', tc.clientId);
  authorizationUrl.searchParams.set('request_uri', response.request_uri);
  return { requestUri: response.request_uri, expiresIn: response.expires_in, verifier, state, nonce, authorizationUrl: authorizationUrl.toString() };
}

/** Pushes an authorization request and returns the OAuth error code it is refused with, or 'accepted'. */
export async function parErrorCode(as: oauth.AuthorizationServer, tc: TestClient, extra: Record<string, string> = {}): Promise<string> {
  try {
    await pushAuthorizationRequest(as, tc, extra);
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError) return err.error;
    throw err;
  }
  return 'accepted';
}

/** Validates the callback URL (JARM for Message Signing clients) and returns the code parameters. */
export async function validateCallback(as: oauth.AuthorizationServer, tc: TestClient, callback: string, state: string): Promise<URLSearchParams> {
  const url = new URL(callback);
  return tc.metadata.require_signed_request_object
    ? oauth.validateJwtAuthResponse(as, tc.client, url, state, tc.options)
    : oauth.validateAuthResponse(as, tc.client, url, state);
}

export interface FlowResult {
  as: oauth.AuthorizationServer;
  par: ParResult;
  callback: string;
  tokens: oauth.TokenEndpointResponse;
  claims: oauth.IDToken | undefined;
  ua: UserAgent;
}

/** PAR → authorization (sign-in, consent) → token, with a real client library at each client step. */
export async function runCodeFlow(server: TestServer, tc: TestClient, user: AuthorizeOptions, extra: Record<string, string> = {}, ua = createUserAgent(server.dispatcher(), server.issuer)): Promise<FlowResult> {
  const as = await discover(server, tc);
  const par = await pushAuthorizationRequest(as, tc, extra);
  const { callback, page } = await ua.authorize(par.authorizationUrl, user);
  if (!callback) throw new Error(`authorization did not return to the client: ${page?.status} ${page?.body.slice(0, 300)}`);
  const tokens = await redeemCallback(as, tc, par, callback, extra.scope === undefined || extra.scope.includes('openid'));
  return { as, par, callback, tokens, claims: oauth.getValidatedIdTokenClaims(tokens), ua };
}

/** The client's side after the redirect back: validate the callback, redeem the code (oauth4webapi). */
export async function redeemCallback(as: oauth.AuthorizationServer, tc: TestClient, par: ParResult, callback: string, requireIdToken = true): Promise<oauth.TokenEndpointResponse> {
  const params = await validateCallback(as, tc, callback, par.state);
  const DPoP = tc.dpopKeys ? oauth.DPoP(tc.client, tc.dpopKeys) : undefined;
  return withNonceRetry(async () => oauth.processAuthorizationCodeResponse(as, tc.client,
    await oauth.authorizationCodeGrantRequest(as, tc.client, tc.clientAuth, params, tc.redirectUri, par.verifier, { ...tc.options, ...(DPoP ? { DPoP } : {}) }),
    { expectedNonce: par.nonce, requireIdToken }));
}
