import { createClientKey } from '@sekisho/example-kit/client-key';
import { createDiscovery } from '@sekisho/example-kit/discovery';
import { withDpopNonceRetry } from '@sekisho/example-kit/dpop-nonce';
import { oauthErrorCode } from '@sekisho/example-kit/error-code';
import { checkUrl, insecureFor } from '@sekisho/example-kit/loopback';
import * as oauth from 'oauth4webapi';
import type { PrivateEcJwk } from '../registration.ts';

/** Options of {@link createFapiClient}. */
export interface FapiClientOptions {
  issuer: string;
  clientId: string;
  /** The app's ES256 private key; its public half is in the client's registered `jwks`. */
  privateJwk: PrivateEcJwk;
  /** As registered: where Sekisho sends the browser back. */
  redirectUri: string;
  /** The bank API's resource identifier (RFC 8707 `resource`, the tokens' audience). */
  bankAudience: string;
  /** Aborts every request when the app closes. */
  signal?: AbortSignal;
}

/** What the app keeps between sending the browser to Sekisho and its return; never shown, never logged. */
export interface PendingAuthorization {
  state: string;
  nonce: string;
  verifier: string;
  /** The key the code (dpop_jkt at PAR) and then the tokens are bound to. */
  dpop: oauth.DPoPHandle;
  expiresAt: number;
}

/** What the app keeps of a token response (server-side only). */
export interface Tokens {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
  refreshToken?: string;
  grantId?: string;
  /** The person at Sekisho (the ID token's `sub`). */
  sub?: string;
  authorizationDetails: oauth.AuthorizationDetails[];
}

/** Why a step with Sekisho failed: an OAuth error code (access_denied, invalid_grant…) or one of ours. */
export class FapiError extends Error {
  readonly error: string;
  constructor(error: string) { super(`authorization server: ${error}`); this.error = error; }
}

/**
 * The fintech app as a FAPI 2.0 Message Signing client, all through oauth4webapi: discovery,
 * private_key_jwt, a pushed authorization request carrying only a signed request object (PKCE S256,
 * `response_mode=jwt`, `resource`, `authorization_details`), DPoP from PAR on (the code is bound
 * to the key), the JARM response validated, the code redeemed and refreshed with DPoP, and the
 * Grant Management API to end a consent. A `use_dpop_nonce` answer is retried once with the nonce.
 */
export function createFapiClient(options: FapiClientOptions) {
  const issuer = checkUrl('issuer', options.issuer);
  checkUrl('redirectUri', options.redirectUri);
  const { privateKey, clientAuth } = createClientKey(options.privateJwk);
  const client: oauth.Client = { client_id: options.clientId, authorization_signed_response_alg: 'ES256', id_token_signed_response_alg: 'ES256' };
  const http = (url: string | undefined) => ({ ...(options.signal ? { signal: options.signal } : {}), ...insecureFor(url) });
  const server = createDiscovery(issuer, {
    endpoints: ['pushed_authorization_request_endpoint', 'authorization_endpoint', 'token_endpoint'],
    signal: () => options.signal,
    missing: () => new FapiError('invalid_response'),
  });

  async function tokensFrom(response: oauth.TokenEndpointResponse): Promise<Tokens> {
    // A bearer token would work for whoever holds it; the bank refuses it anyway.
    if (response.token_type !== 'dpop') throw new FapiError('token_not_dpop_bound');
    const sub = oauth.getValidatedIdTokenClaims(response)?.sub;
    return {
      accessToken: response.access_token,
      expiresAt: Date.now() + (response.expires_in ?? 60) * 1000,
      ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
      ...(typeof response.grant_id === 'string' ? { grantId: response.grant_id } : {}),
      ...(sub ? { sub } : {}),
      authorizationDetails: Array.isArray(response.authorization_details) ? response.authorization_details : [],
    };
  }

  return {
    /**
     * Pushes a signed authorization request and returns where to send the browser, and what to
     * keep until it comes back. `ongoing`: offline_access with prompt=consent (OIDC Core §11), for a
     * lasting connection; a transfer asks for `openid` only (a one-time consent has no refresh token).
     */
    async authorize(details: unknown[], ongoing: boolean): Promise<{ url: string; pending: PendingAuthorization }> {
      try {
        const as = await server();
        const pending: PendingAuthorization = {
          state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), verifier: oauth.generateRandomCodeVerifier(),
          dpop: oauth.DPoP(client, await oauth.generateKeyPair('ES256')), expiresAt: Date.now() + 10 * 60_000,
        };
        const parameters = new URLSearchParams({
          client_id: options.clientId,
          response_type: 'code',
          response_mode: 'jwt',
          redirect_uri: options.redirectUri,
          scope: ongoing ? 'openid offline_access' : 'openid',
          code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier),
          code_challenge_method: 'S256',
          state: pending.state,
          nonce: pending.nonce,
          resource: options.bankAudience,
          authorization_details: JSON.stringify(details),
        });
        if (ongoing) parameters.set('prompt', 'consent');
        // iss = client_id, aud = issuer, iat/nbf/exp (60 s), jti; typ oauth-authz-req+jwt; ES256 with our key.
        const request = await oauth.issueRequestObject(as, client, parameters, await privateKey());
        const pushed = await withDpopNonceRetry(async () => oauth.processPushedAuthorizationResponse(as, client,
          await oauth.pushedAuthorizationRequest(as, client, await clientAuth(), { client_id: options.clientId, request }, {
            DPoP: pending.dpop, ...http(as.pushed_authorization_request_endpoint),
          })));
        const url = new URL(as.authorization_endpoint!);
        url.searchParams.set('client_id', options.clientId);
        url.searchParams.set('request_uri', pushed.request_uri);
        return { url: url.href, pending };
      } catch (err) {
        throw new FapiError(errorCode(err));
      }
    },

    /** The browser is back: validates the JARM response (signature, iss, aud, exp, state) and redeems the code with DPoP. */
    async finish(callback: URL, pending: PendingAuthorization): Promise<Tokens> {
      try {
        const as = await server();
        const params = await oauth.validateJwtAuthResponse(as, client, callback, pending.state, http(as.jwks_uri));
        const response = await withDpopNonceRetry(async () => oauth.processAuthorizationCodeResponse(as, client,
          await oauth.authorizationCodeGrantRequest(as, client, await clientAuth(), params, options.redirectUri, pending.verifier, {
            DPoP: pending.dpop, ...http(as.token_endpoint),
          }), { expectedNonce: pending.nonce, requireIdToken: true }));
        return await tokensFrom(response);
      } catch (err) {
        throw new FapiError(errorCode(err));
      }
    },

    /** A new access token for a lasting connection, with the key its refresh token is bound to. */
    async refresh(refreshToken: string, dpop: oauth.DPoPHandle): Promise<Tokens> {
      try {
        const as = await server();
        const response = await withDpopNonceRetry(async () => oauth.processRefreshTokenResponse(as, client,
          await oauth.refreshTokenGrantRequest(as, client, await clientAuth(), refreshToken, { DPoP: dpop, ...http(as.token_endpoint) })));
        const tokens = await tokensFrom(response);
        // Sekisho does not rotate refresh tokens (FAPI 2.0 SP 5.3.2.1-9): keep the one we hold.
        return { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken };
      } catch (err) {
        throw new FapiError(errorCode(err));
      }
    },

    /**
     * Ends a consent at Sekisho (Grant Management, DELETE /grants/{grant_id}) with the app's own
     * client-credentials token (scope grant_management_revoke, no resource, DPoP-bound to a key made
     * for this call). A grant that is already gone (404) counts as ended.
     */
    async revokeGrant(grantId: string): Promise<void> {
      try {
        const as = await server();
        const endpoint = as.grant_management_endpoint;
        if (typeof endpoint !== 'string') throw new FapiError('no_grant_management');
        checkUrl('grant_management_endpoint', endpoint);
        const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
        const management = await withDpopNonceRetry(async () => oauth.processClientCredentialsResponse(as, client,
          await oauth.clientCredentialsGrantRequest(as, client, await clientAuth(), { scope: 'grant_management_revoke' }, { DPoP: dpop, ...http(as.token_endpoint) })));
        const url = new URL(`${endpoint}/${encodeURIComponent(grantId)}`);
        const response = await withDpopNonceRetry(() => oauth.protectedResourceRequest(management.access_token, 'DELETE', url, undefined, undefined, { DPoP: dpop, ...http(url.href) }));
        await response.body?.cancel();
        if (response.status !== 204 && response.status !== 404) throw new FapiError(`grant_revocation_${response.status}`);
      } catch (err) {
        throw err instanceof FapiError ? err : new FapiError(errorCode(err));
      }
    },
  };
}
export type FapiClient = ReturnType<typeof createFapiClient>;

/** An error as a short code safe to show and log: never a description from the server, never a token. */
export function errorCode(err: unknown): string {
  return err instanceof FapiError ? err.error : oauthErrorCode(err);
}
