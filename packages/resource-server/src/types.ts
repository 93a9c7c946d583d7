/** The public shapes of the SDK: options, requirements and the verified access. */
import type { ResourceServerError } from './errors.ts';

/**
 * JWS algorithms the SDK can verify. FAPI 2.0 allows PS256, ES256 and EdDSA (Ed25519), the
 * default; `none`, HMAC and RSASSA-PKCS1-v1_5 are never accepted, whatever the configuration says.
 */
export type SigningAlgorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'Ed25519';

/** A public JSON Web Key (RFC 7517) as published in a JWKS. */
export interface PublicJwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  [member: string]: unknown;
}

/** One RFC 9396 authorization detail: a `type` and whatever members that type defines. */
export interface AuthorizationDetail {
  type: string;
  [member: string]: unknown;
}

/**
 * A store that remembers DPoP proof identifiers until they can no longer be accepted
 * (RFC 9449 §11.1). Share one store (e.g. Redis `SET key 1 NX PXAT expiresAtMs`) across every
 * instance of the API, or replays across instances go unnoticed.
 */
export interface ReplayStore {
  /** True the first time `key` is seen before `expiresAtMs`; false for a replay. Must be atomic. */
  firstUse(key: string, expiresAtMs: number): boolean | Promise<boolean>;
}

/** DPoP server nonces (RFC 9449 §9): what the SDK asks of a nonce source. */
export interface DpopNonces {
  /** The nonce a client should use now (sent in `DPoP-Nonce`). */
  current(): string | Promise<string>;
  /** Whether a proof's `nonce` is still acceptable. */
  isValid(nonce: string): boolean | Promise<boolean>;
}

/** Options of {@link createResourceServer}. */
export interface ResourceServerOptions {
  /** The issuer identifier: tokens' `iss`; discovery is read from `{issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** This API's resource identifier (RFC 8707); a JWT's `aud` must contain it. */
  audience: string;
  /** The issuer's keys given inline: nothing is fetched for JWT verification. */
  jwks?: { keys: PublicJwk[] };
  /** Where the issuer's keys are; default: discovery's `jwks_uri`. Cached; refetched on an unknown kid (rate-limited). */
  jwksUri?: string;
  /** Token introspection (RFC 7662) for opaque tokens; without it an opaque token is `invalid_token`. */
  introspection?: IntrospectionOptions;
  /** Algorithms accepted for access tokens, introspection JWTs and DPoP proofs. Default PS256, ES256, EdDSA. */
  algorithms?: SigningAlgorithm[];
  /** Allowed clock difference with the issuer and clients, seconds. Default 5. */
  clockToleranceSeconds?: number;
  dpop?: DpopOptions;
  /**
   * The API's external base URL. When set, a proof's `htu` is compared with this URL's origin and
   * the request's path (for APIs behind a proxy, where the request URL says `http://10.0.0.3:8080`).
   */
  publicUrl?: string;
  /** The fetch used for discovery, JWKS and introspection (e.g. one trusting a private CA, or with a client certificate). */
  fetch?: typeof fetch;
  /** Give up on the issuer after this long, milliseconds (then 503). Default 5000. */
  fetchTimeoutMs?: number;
  /** Minimum seconds between two JWKS fetches caused by an unknown `kid`. Default 30. */
  jwksCooldownSeconds?: number;
  /** Seconds the fetched JWKS is used before it is fetched again on the next request. Default 600. */
  jwksMaxAgeSeconds?: number;
  /**
   * JWT access tokens remembered as verified, by their exact string (default 1000; 0 turns it off).
   * A client presents one token with many requests; its signature and static claims are checked
   * once, its expiry every time, and all of it again when the issuer's key set changes.
   */
  verifiedTokenCacheSize?: number;
  /** `realm` for WWW-Authenticate challenges (RFC 6750 §3). Default none. */
  realm?: string;
}

/** Introspection settings (RFC 7662, RFC 9701), authenticated with private_key_jwt (RFC 7523). */
export interface IntrospectionOptions {
  /** This API's client_id at the authorization server (Sekisho: `resourceServers[].introspectionClients`). */
  clientId: string;
  /** Signs the client assertion (`aud` = issuer, 60 s lifetime). */
  privateKey: CryptoKey;
  /** `kid` of the key, in the assertion header. */
  kid?: string;
  /** Assertion algorithm. Default from the key: ES256 (P-256), PS256 (RSA-PSS), EdDSA (Ed25519). */
  alg?: 'ES256' | 'PS256' | 'EdDSA';
  /** Default: discovery's `introspection_endpoint`. */
  endpoint?: string;
  /** Ask for a signed JWT response (RFC 9701) and verify it with the issuer's keys. */
  jwtResponse?: boolean;
  /** Reuse an answer this many seconds (default 0: every request asks). An entry never outlives the token's `exp`. */
  cacheSeconds?: number;
  /** Most answers kept in the cache. Default 10000. */
  cacheMaxEntries?: number;
}

/** DPoP settings (RFC 9449). */
export interface DpopOptions {
  /** How far a proof's `iat` may be from now, seconds. Default 60. */
  iatWindowSeconds?: number;
  /** Where used proof `jti`s are remembered. Default: an in-memory store (one instance only). */
  replayStore?: ReplayStore;
  /** When set, proofs must carry a current nonce (`use_dpop_nonce` otherwise). */
  nonces?: DpopNonces;
}

/** What one request must satisfy beyond a valid, correctly bound token. */
export interface VerifyOptions {
  /** Every one is required, else 403 `insufficient_scope` with `scope="..."`. */
  scopes?: string[];
  /**
   * Receives the token's `authorization_details` (possibly `[]`); `false` or an empty array →
   * 403 `insufficient_scope`. What it returns is `access.matchedDetails`.
   */
  authorizationDetails?: (details: AuthorizationDetail[]) => boolean | AuthorizationDetail[];
  /** The TLS client certificate (PEM or DER) the request came with; needed for mTLS-bound tokens. */
  clientCertificate?: string | Uint8Array;
}

/** The claims of a verified token (JWT payload, or the introspection answer). */
export interface AccessTokenClaims {
  iss: string;
  sub?: string;
  aud: string | string[];
  client_id: string;
  scope?: string;
  exp: number;
  iat?: number;
  nbf?: number;
  jti?: string;
  cnf: { jkt?: string; 'x5t#S256'?: string; [member: string]: unknown };
  authorization_details?: AuthorizationDetail[];
  act?: Record<string, unknown>;
  grant_id?: string;
  [claim: string]: unknown;
}

/** How the token is bound to its sender. */
export type TokenBinding = { kind: 'dpop'; jkt: string } | { kind: 'mtls'; x5tS256: string };

/** The result of a successful {@link ResourceServer.verify}. */
export interface VerifiedAccess {
  token: 'jwt' | 'opaque';
  claims: AccessTokenClaims;
  scopes: string[];
  /** `[]` when the token has none. */
  authorizationDetails: AuthorizationDetail[];
  /** What the `authorizationDetails` predicate returned (all details when it returned `true` or was not given). */
  matchedDetails: AuthorizationDetail[];
  binding: TokenBinding;
  /** Headers to add to the success response (e.g. `dpop-nonce` when nonces are on). */
  responseHeaders: Record<string, string>;
}

/** A configured verifier for one API (see {@link createResourceServer}). */
export interface ResourceServer {
  /** Verifies one request; throws {@link ResourceServerError} on every failure. */
  verify(request: Request, options?: VerifyOptions): Promise<VerifiedAccess>;
  /** The HTTP answer for an error: status, `WWW-Authenticate` and friends, empty body. */
  errorResponse(error: ResourceServerError): Response;
  /** The options this server was created with (read-only), for adapters. */
  readonly options: Readonly<ResourceServerOptions>;
}
