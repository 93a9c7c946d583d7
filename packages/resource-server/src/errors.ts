/**
 * The SDK's one error type and the table that maps each stable code to its HTTP answer
 * (RFC 6750 §3 for Bearer, RFC 9449 §7.1 for DPoP). Descriptions are fixed texts: nothing from the
 * request (token, proof, header) ever reaches a response header.
 */

/** The OAuth `error` values an API answers with (RFC 6750 §3.1, RFC 9449 §7.1, §9). */
export type OAuthErrorValue = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce';

/** Every stable error code of {@link ResourceServerError}, with its HTTP status, `error` and fixed description. */
export const ERROR_CODES = {
  ERR_MISSING_TOKEN: { status: 401, error: undefined, description: 'The request carries no access token' },
  ERR_INVALID_REQUEST: { status: 400, error: 'invalid_request', description: 'The Authorization header is malformed, repeated, uses an unknown scheme, or the token was sent outside it' },
  ERR_INVALID_TOKEN: { status: 401, error: 'invalid_token', description: 'The access token is malformed or its signature cannot be verified' },
  ERR_TOKEN_EXPIRED: { status: 401, error: 'invalid_token', description: 'The access token expired or is not yet valid' },
  ERR_WRONG_ISSUER: { status: 401, error: 'invalid_token', description: 'The access token was issued by another issuer' },
  ERR_WRONG_AUDIENCE: { status: 401, error: 'invalid_token', description: 'The access token was issued for another resource' },
  ERR_TOKEN_INACTIVE: { status: 401, error: 'invalid_token', description: 'The access token is not active' },
  ERR_UNBOUND_TOKEN: { status: 401, error: 'invalid_token', description: 'The access token is not sender-constrained' },
  ERR_WRONG_SCHEME: { status: 401, error: 'invalid_token', description: 'The access token was sent with the wrong authentication scheme' },
  ERR_DPOP_PROOF_MISSING: { status: 401, error: 'invalid_dpop_proof', description: 'A DPoP proof is required' },
  ERR_DPOP_PROOF_INVALID: { status: 401, error: 'invalid_dpop_proof', description: 'The DPoP proof is malformed or its signature is invalid' },
  ERR_DPOP_HTM_MISMATCH: { status: 401, error: 'invalid_dpop_proof', description: 'The DPoP proof was made for another HTTP method' },
  ERR_DPOP_HTU_MISMATCH: { status: 401, error: 'invalid_dpop_proof', description: 'The DPoP proof was made for another URL' },
  ERR_DPOP_IAT: { status: 401, error: 'invalid_dpop_proof', description: 'The DPoP proof is too old or from the future' },
  ERR_DPOP_ATH_MISMATCH: { status: 401, error: 'invalid_dpop_proof', description: 'The DPoP proof was made for another access token' },
  ERR_DPOP_REPLAY: { status: 401, error: 'invalid_dpop_proof', description: 'The DPoP proof was already used' },
  ERR_DPOP_KEY_MISMATCH: { status: 401, error: 'invalid_dpop_proof', description: 'The DPoP proof key is not the key the access token is bound to' },
  ERR_DPOP_NONCE: { status: 401, error: 'use_dpop_nonce', description: 'A current DPoP nonce is required' },
  ERR_CERTIFICATE_MISSING: { status: 401, error: 'invalid_token', description: 'The access token is bound to a client certificate that was not presented' },
  ERR_CERTIFICATE_MISMATCH: { status: 401, error: 'invalid_token', description: 'The access token is bound to another client certificate' },
  ERR_INSUFFICIENT_SCOPE: { status: 403, error: 'insufficient_scope', description: 'The access token lacks a required scope' },
  ERR_INSUFFICIENT_AUTHORIZATION_DETAILS: { status: 403, error: 'insufficient_scope', description: 'The access token lacks the required authorization details' },
  ERR_ISSUER_UNAVAILABLE: { status: 503, error: undefined, description: 'The authorization server cannot be reached' },
} as const satisfies Record<string, { status: 400 | 401 | 403 | 503; error: OAuthErrorValue | undefined; description: string }>;

/** A stable error code: switch on it, log it; it never changes meaning between versions. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Which challenge(s) the `WWW-Authenticate` header carries. */
export type ChallengeScheme = 'Bearer' | 'DPoP' | 'both';

/** What the SDK knows when it builds a challenge (internal; not part of the public contract). */
export interface ChallengeContext {
  scheme: ChallengeScheme;
  /** DPoP `algs` parameter (RFC 9449 §7.1). */
  algs: readonly string[];
  /** Required scopes for `insufficient_scope` (RFC 6750 §3). */
  scope?: readonly string[];
  /** A fresh nonce to send in `DPoP-Nonce` (RFC 9449 §9). */
  nonce?: string;
  /** Seconds for `Retry-After` on 503. */
  retryAfter?: number;
  realm?: string;
}

/** Response headers for an error: lower-case names, ready for `new Response(null, { headers })`. */
export interface ErrorHeaders {
  'www-authenticate'?: string;
  'dpop-nonce'?: string;
  'retry-after'?: string;
  [name: string]: string | undefined;
}

/**
 * The only error `verify()` throws for bad input (RFC 6750 §3, RFC 9449 §7.1): `code` is stable,
 * `status`/`error`/`headers` are the HTTP answer. `message` is the fixed description; `cause` may
 * hold the underlying problem (for logs only — never send it to the client).
 */
export class ResourceServerError extends Error {
  override readonly name = 'ResourceServerError';
  readonly code: ErrorCode;
  readonly status: 400 | 401 | 403 | 503;
  /** The OAuth `error` value, or undefined when none is sent (no token; issuer unavailable). */
  readonly error: OAuthErrorValue | undefined;
  /** `WWW-Authenticate` (and `DPoP-Nonce`, `Retry-After` when relevant); lower-case names. */
  readonly headers: ErrorHeaders;

  constructor(code: ErrorCode, context: ChallengeContext, options?: { cause?: unknown }) {
    const entry = ERROR_CODES[code];
    super(entry.description, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = entry.status;
    this.error = entry.error;
    this.headers = errorHeaders(code, context);
  }
}

/** Is `value` a {@link ResourceServerError}? (Works across duplicate copies of the package.) */
export function isResourceServerError(value: unknown): value is ResourceServerError {
  if (value instanceof ResourceServerError) return true;
  const code: unknown = value instanceof Error && value.name === 'ResourceServerError' ? (value as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

function errorHeaders(code: ErrorCode, context: ChallengeContext): ErrorHeaders {
  const entry = ERROR_CODES[code];
  const headers: ErrorHeaders = {};
  if (entry.status === 503) {
    headers['retry-after'] = String(context.retryAfter ?? 5);
    return headers;
  }
  const params: string[] = [];
  if (context.realm !== undefined) params.push(`realm=${quote(context.realm)}`);
  if (entry.error) params.push(`error="${entry.error}"`, `error_description="${entry.description}"`);
  if (entry.error === 'insufficient_scope' && context.scope?.length) params.push(`scope=${quote(context.scope.join(' '))}`);
  const bearer = `Bearer${params.length ? ` ${params.join(', ')}` : ''}`;
  const dpop = `DPoP ${[...params, `algs="${context.algs.join(' ')}"`].join(', ')}`;
  headers['www-authenticate'] = context.scheme === 'Bearer' ? bearer : context.scheme === 'DPoP' ? dpop : `${bearer}, ${dpop}`;
  if (context.nonce !== undefined && context.scheme !== 'Bearer') headers['dpop-nonce'] = context.nonce;
  return headers;
}

/** RFC 9110 quoted-string; values are configuration (scope names, realm), never request input. */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[\u0000-\u001f\u007f]/g, '')}"`;
}

/**
 * What the SDK's checks throw internally: only a code (and a cause for logs). `verify()` turns it
 * into a {@link ResourceServerError} with the challenge that fits the request.
 */
export class VerificationFailure extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, cause?: unknown) {
    super(code, cause === undefined ? undefined : { cause });
    this.code = code;
  }
}

/** Throws a {@link VerificationFailure}; for terse checks (`ok || fail('ERR_…')`). */
export function fail(code: ErrorCode, cause?: unknown): never {
  throw new VerificationFailure(code, cause);
}
