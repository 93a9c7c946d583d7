import { createClientKey, type ClientPrivateJwk } from '@sekisho/example-kit/client-key';
import { createDiscovery } from '@sekisho/example-kit/discovery';
import { withDpopNonceRetry } from '@sekisho/example-kit/dpop-nonce';
import { oauthErrorCode } from '@sekisho/example-kit/error-code';
import { checkUrl, insecureFor } from '@sekisho/example-kit/loopback';
import * as oauth from 'oauth4webapi';

export interface PortalClientOptions {
  issuer: string;
  clientId: string;
  privateJwk: ClientPrivateJwk;
  /** The registered redirect URI: {publicUrl}/callback. */
  redirectUri: string;
  /** The health API's resource identifier (RFC 8707 `resource`, the access token's audience). */
  audience: string;
  /** Aborts every request when the portal closes. */
  signal: AbortSignal;
  /** Gives up on Sekisho after this long, milliseconds (default 10 000): a page never waits for ever. */
  timeoutMs?: number;
}

/** What the portal keeps of a sign-in between the redirect to Sekisho and the callback. */
export interface PendingSignIn { state: string; nonce: string; verifier: string; dpopKeys: oauth.CryptoKeyPair }

export interface SignedIn {
  sub: string;
  refreshToken?: string;
  accessToken: string;
  expiresAt: number;
  grantId?: string;
  scopes: string[];
  authorizationDetails: oauth.AuthorizationDetails[];
}

/** A refusal from Sekisho or a failure to reach it, as a short code safe to show and log. */
export class PortalOAuthError extends Error {
  readonly code: string;
  constructor(code: string) { super(`oauth: ${code}`); this.code = code; }
}

/** An error as a short code: the OAuth `error`, or `unreachable` / `invalid_response`; never a description or a token. */
export function errorCode(err: unknown): string {
  return err instanceof PortalOAuthError ? err.code : oauthErrorCode(err);
}

/**
 * The portal as a FAPI 2.0 client of Sekisho, all through oauth4webapi: discovery, pushed
 * authorization requests with PKCE (S256) and DPoP, private_key_jwt, the code and refresh grants
 * with DPoP-bound tokens, and its own client-credentials token for Grant Management.
 */
export function createPortalClient(options: PortalClientOptions) {
  const issuer = checkUrl('issuer', options.issuer);
  const { clientAuth } = createClientKey(options.privateJwk);
  // As registered (registration.ts): oauth4webapi then accepts ID tokens signed with ES256 only.
  const client: oauth.Client = { client_id: options.clientId, id_token_signed_response_alg: 'ES256' };
  /** The portal's closing, or the time limit of one call, whichever comes first. */
  const signal = () => AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? 10_000)]);
  const server = createDiscovery(issuer, {
    endpoints: ['pushed_authorization_request_endpoint', 'authorization_endpoint', 'token_endpoint'],
    signal,
    missing: () => new PortalOAuthError('invalid_response'),
  });

  function signedIn(tokens: oauth.TokenEndpointResponse, sub: string): SignedIn {
    if (tokens.token_type !== 'dpop') throw new PortalOAuthError('token_not_dpop_bound');
    return {
      sub, accessToken: tokens.access_token, expiresAt: Date.now() + (tokens.expires_in ?? 60) * 1000,
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      ...(typeof tokens.grant_id === 'string' ? { grantId: tokens.grant_id } : {}),
      scopes: typeof tokens.scope === 'string' ? tokens.scope.split(' ').filter(Boolean) : [],
      authorizationDetails: Array.isArray(tokens.authorization_details) ? tokens.authorization_details : [],
    };
  }

  return {
    /** Where a page may post to and be redirected (the CSP's form-action): Sekisho's authorization endpoint's origin. */
    async authorizationOrigin(): Promise<string | undefined> {
      try { return new URL((await server()).authorization_endpoint!).origin; } catch { return undefined; }
    },

    /** Pushes the authorization request; returns the URL to send the browser to and what the callback needs. */
    async start(parameters: Record<string, string>): Promise<{ url: string; pending: PendingSignIn }> {
      try {
        const as = await server();
        const pending: PendingSignIn = {
          state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), verifier: oauth.generateRandomCodeVerifier(),
          dpopKeys: await oauth.generateKeyPair('ES256'),
        };
        const DPoP = oauth.DPoP(client, pending.dpopKeys);
        const params = {
          ...parameters, client_id: options.clientId, response_type: 'code', redirect_uri: options.redirectUri, resource: options.audience,
          code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier), code_challenge_method: 'S256',
          state: pending.state, nonce: pending.nonce,
        };
        const par = await withDpopNonceRetry(async () => oauth.processPushedAuthorizationResponse(as, client,
          await oauth.pushedAuthorizationRequest(as, client, await clientAuth(), params, { DPoP, signal: signal(), ...insecureFor(as.pushed_authorization_request_endpoint) })));
        const url = new URL(as.authorization_endpoint!);
        url.searchParams.set('client_id', options.clientId);
        url.searchParams.set('request_uri', par.request_uri);
        return { url: url.href, pending };
      } catch (err) {
        throw new PortalOAuthError(errorCode(err));
      }
    },

    /** The callback: `iss` and `state` checked (RFC 9207), the code redeemed with PKCE and DPoP, the ID token validated. */
    async finish(callbackUrl: URL, pending: PendingSignIn): Promise<SignedIn> {
      try {
        const as = await server();
        const params = oauth.validateAuthResponse(as, client, callbackUrl, pending.state);
        const DPoP = oauth.DPoP(client, pending.dpopKeys);
        const tokens = await withDpopNonceRetry(async () => oauth.processAuthorizationCodeResponse(as, client,
          await oauth.authorizationCodeGrantRequest(as, client, await clientAuth(), params, options.redirectUri, pending.verifier, { DPoP, signal: signal(), ...insecureFor(as.token_endpoint) }),
          { expectedNonce: pending.nonce, requireIdToken: true }));
        const claims = oauth.getValidatedIdTokenClaims(tokens);
        if (!claims) throw new PortalOAuthError('invalid_response');
        return signedIn(tokens, claims.sub);
      } catch (err) {
        throw new PortalOAuthError(errorCode(err));
      }
    },

    /** A new access token for the health API from the refresh token (the same DPoP key). `invalid_grant`: the consent has ended. */
    async refresh(refreshToken: string, dpopKeys: oauth.CryptoKeyPair, sub: string): Promise<SignedIn> {
      try {
        const as = await server();
        const DPoP = oauth.DPoP(client, dpopKeys);
        const tokens = await withDpopNonceRetry(async () => oauth.processRefreshTokenResponse(as, client,
          await oauth.refreshTokenGrantRequest(as, client, await clientAuth(), refreshToken, {
            DPoP, signal: signal(), additionalParameters: { resource: options.audience }, ...insecureFor(as.token_endpoint),
          })));
        return signedIn(tokens, sub);
      } catch (err) {
        throw new PortalOAuthError(errorCode(err));
      }
    },

    /**
     * Ends the grant at Sekisho (Grant Management: `DELETE /grants/{id}`) with the portal's own
     * client-credentials token (`grant_management_revoke`, no resource, DPoP-bound to a key made
     * for this call). `gone` when Sekisho no longer knows the grant (already ended).
     */
    async revokeGrant(grantId: string): Promise<'revoked' | 'gone'> {
      try {
        const as = await server();
        const endpoint = as.grant_management_endpoint;
        if (typeof endpoint !== 'string') throw new PortalOAuthError('no_grant_management');
        checkUrl('grant_management_endpoint', endpoint);
        const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
        const management = await withDpopNonceRetry(async () => oauth.processClientCredentialsResponse(as, client,
          await oauth.clientCredentialsGrantRequest(as, client, await clientAuth(), { scope: 'grant_management_revoke' }, { DPoP, signal: signal(), ...insecureFor(as.token_endpoint) })));
        const url = new URL(`${endpoint.replace(/\/$/, '')}/${encodeURIComponent(grantId)}`);
        const response = await withDpopNonceRetry(() => oauth.protectedResourceRequest(management.access_token, 'DELETE', url, undefined, undefined, {
          DPoP, signal: signal(), ...insecureFor(url),
        }));
        await response.body?.cancel();
        if (response.status === 204) return 'revoked';
        if (response.status === 404) return 'gone';
        throw new PortalOAuthError(`grant_management_${response.status}`);
      } catch (err) {
        throw new PortalOAuthError(errorCode(err));
      }
    },
  };
}
export type PortalClient = ReturnType<typeof createPortalClient>;
