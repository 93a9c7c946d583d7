import { decodeJwt } from 'jose';
import {
  clockTolerance, customFetch, discoveryRequest, processDiscoveryResponse, validateJwtAccessToken,
  type AuthorizationServer, type JWKS, type JWTAccessTokenClaims,
} from 'oauth4webapi';
import { checkUrl, insecureFor } from '../shared/loopback.ts';
import { FAPI_ALGS } from './responses.ts';
import { createReplayCache } from './replay-cache.ts';

export interface TokenVerifierOptions {
  /** The authorization server's issuer identifier; tokens must carry it as `iss`. */
  issuer: string;
  /** This API's resource identifier (RFC 8707); tokens must carry it in `aud`. */
  audience: string;
  /** The issuer's JWKS URL. Without it and without `jwks`, it is read from the issuer's discovery document. */
  jwksUri?: string;
  /** The issuer's public keys, when they are known in advance (no fetching at all). */
  jwks?: JWKS;
  /** Seconds of clock difference tolerated on exp/iat/nbf (oauth4webapi's default is 30). */
  clockToleranceSeconds?: number;
}

export type Verification =
  | { ok: true; claims: JWTAccessTokenClaims }
  | { ok: false; status: 401; error?: 'invalid_token' | 'invalid_dpop_proof'; reason: string }
  | { ok: false; status: 503; reason: string };

/** Where inline keys are "fetched" from: never on the network (.invalid is reserved, RFC 2606). */
const INLINE_JWKS = 'https://inline-jwks.invalid/jwks';

/**
 * Verifies DPoP-bound RFC 9068 access tokens with oauth4webapi's `validateJwtAccessToken`: the
 * signature against the issuer's keys, `typ: at+jwt`, iss, aud, exp, and the DPoP proof (its
 * signature, htm, htu, ath, iat and that its key is the token's `cnf.jkt`). Adds what that function
 * leaves to the caller: a proof's `jti` is accepted once (RFC 9449 §11.1). It does not check DPoP
 * nonces (this API issues none) or what the token allows (the caller's job).
 */
export function createTokenVerifier(options: TokenVerifierOptions) {
  checkUrl('issuer', options.issuer);
  if (options.jwksUri !== undefined) checkUrl('jwksUri', options.jwksUri);
  const replay = createReplayCache();
  // One metadata object for the API's life: oauth4webapi caches the JWKS per object.
  let server: Promise<AuthorizationServer> | undefined;
  if (options.jwks) server = Promise.resolve({ issuer: options.issuer, jwks_uri: INLINE_JWKS });
  else if (options.jwksUri) server = Promise.resolve({ issuer: options.issuer, jwks_uri: options.jwksUri });

  async function discover(fetchFn: typeof fetch): Promise<AuthorizationServer> {
    const issuer = new URL(options.issuer);
    const response = await discoveryRequest(issuer, { algorithm: 'oidc', [customFetch]: fetchFn, ...insecureFor(issuer) });
    const as = await processDiscoveryResponse(issuer, response);
    if (!as.jwks_uri) throw new Error('the issuer publishes no jwks_uri');
    checkUrl('jwks_uri', as.jwks_uri);
    return as;
  }

  function metadata(fetchFn: typeof fetch): Promise<AuthorizationServer> {
    if (!server) {
      const attempt = discover(fetchFn);
      server = attempt;
      // A failed discovery is tried again by the next request rather than remembered.
      attempt.catch(() => { if (server === attempt) server = undefined; });
    }
    return server;
  }

  return {
    async verify(request: Request): Promise<Verification> {
      if (!request.headers.has('authorization')) return { ok: false, status: 401, reason: 'no access token' };
      // Whether the issuer could be reached decides between "your token is bad" (401) and "we
      // cannot tell right now" (503): a token must not be refused because the JWKS is unreachable.
      let upstreamFailed = false;
      const fetchFn = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
        try {
          const response = String(url) === INLINE_JWKS ? Response.json(options.jwks) : await fetch(url, init);
          if (!response.ok) upstreamFailed = true;
          return response;
        } catch (err) {
          upstreamFailed = true;
          throw err;
        }
      };

      let as: AuthorizationServer;
      try {
        as = await metadata(fetchFn);
      } catch {
        return { ok: false, status: 503, reason: 'the issuer metadata could not be read' };
      }

      let claims: JWTAccessTokenClaims;
      try {
        claims = await validateJwtAccessToken(as, request, options.audience, {
          requireDPoP: true,
          signingAlgorithms: FAPI_ALGS,
          [customFetch]: fetchFn,
          ...insecureFor(as.jwks_uri),
          ...(options.clockToleranceSeconds !== undefined ? { [clockTolerance]: options.clockToleranceSeconds } : {}),
        });
      } catch (err) {
        if (upstreamFailed) return { ok: false, status: 503, reason: 'the issuer keys could not be read' };
        // oauth4webapi does not always say which of the two JWTs failed, so every failure is
        // invalid_token; the client's remedy is the same (a new token, a new proof).
        return { ok: false, status: 401, error: 'invalid_token', reason: err instanceof Error ? err.message : 'invalid token' };
      }

      // validateJwtAccessToken checked the proof's signature and iat (±300 s); its jti is ours.
      const proof = decodeJwt(request.headers.get('dpop')!);
      if (typeof proof.jti !== 'string' || proof.jti.length > 256 || typeof proof.iat !== 'number') {
        return { ok: false, status: 401, error: 'invalid_dpop_proof', reason: 'DPoP proof jti missing or too long' };
      }
      if (!replay.firstUse(proof.jti, proof.iat)) return { ok: false, status: 401, error: 'invalid_dpop_proof', reason: 'DPoP proof replayed' };
      return { ok: true, claims };
    },
  };
}
