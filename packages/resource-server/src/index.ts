/**
 * `@sekisho/resource-server`: verify sender-constrained access tokens at an API.
 *
 * - {@link createResourceServer}: RFC 9068 JWTs or RFC 7662/9701 introspection; DPoP (RFC 9449)
 *   or mTLS (RFC 8705) binding; scopes and RFC 9396 authorization details; RFC 6750 / RFC 9449
 *   errors as {@link ResourceServerError}.
 * - {@link createMemoryReplayStore}, {@link createDpopNonces}: DPoP replay detection and nonces.
 *
 * Web APIs only (Request, Response, crypto.subtle, fetch): Node 20+, Deno, Bun, workers. The Node
 * adapters are in `@sekisho/resource-server/node`.
 */
export { createResourceServer } from './resource-server.ts';
export { ResourceServerError, isResourceServerError, ERROR_CODES, type ErrorCode, type ErrorHeaders, type OAuthErrorValue } from './errors.ts';
export { createMemoryReplayStore, type MemoryReplayStoreOptions } from './replay-store.ts';
export { createDpopNonces, type DpopNoncesOptions } from './dpop-nonces.ts';
export { certificateThumbprint } from './certificate-binding.ts';
export type {
  AccessTokenClaims, AuthorizationDetail, DpopNonces, DpopOptions, IntrospectionOptions, PublicJwk, ReplayStore,
  ResourceServer, ResourceServerOptions, SigningAlgorithm, TokenBinding, VerifiedAccess, VerifyOptions,
} from './types.ts';

/** This package's version. */
export const VERSION = '0.1.0';
