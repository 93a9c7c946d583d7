import type { Problem } from './responses.ts';

/** What the SDK's ResourceServerError carries that the answer needs. */
export interface AuthFailure { status: number; error?: string | undefined; code: string; headers: Record<string, string | undefined> }

/** The SDK's headers without the absent ones. */
export function definedHeaders(headers: AuthFailure['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * A refused token as an answer: the SDK's status and headers (`WWW-Authenticate`, and
 * `DPoP-Nonce` / `Retry-After` when it sets them, RFC 6750 §3 / RFC 9449 §7.1), and a
 * problem+json body with fixed words so that people reading it know what happened.
 */
export function authProblem(err: AuthFailure): Problem {
  switch (err.error) {
    case 'invalid_request': return { status: err.status, title: 'Bad request', detail: 'The Authorization or DPoP header is malformed.' };
    case 'invalid_token': return { status: err.status, title: 'Invalid token', detail: 'The access token is not valid here: expired, revoked, for another API, or not bound to the key used.' };
    case 'invalid_dpop_proof': return { status: err.status, title: 'Invalid DPoP proof', detail: 'The DPoP proof is missing, malformed, for another request, or was used before.' };
    case 'use_dpop_nonce': return { status: err.status, title: 'DPoP nonce required', detail: 'Send the proof again with the nonce in the DPoP-Nonce header.' };
    case 'insufficient_scope': return { status: err.status, title: 'Forbidden', detail: 'The consent behind this token does not cover this request.' };
    default:
      if (err.status === 503) return { status: 503, title: 'Service unavailable', detail: 'The token issuer could not be reached; try again.' };
      return { status: err.status, title: 'Access token required', detail: 'Send a DPoP-bound access token from the bank\'s authorization server.' };
  }
}

/** The access log's word for a refusal. */
export function authOutcome(err: AuthFailure): string {
  if (err.status === 503) return 'unavailable';
  return err.error ?? 'no_token';
}
