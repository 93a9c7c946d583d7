/**
 * What an endpoint requires of a valid token: scopes (RFC 6749 §3.3, answered per RFC 6750 §3.1
 * `insufficient_scope`) and RFC 9396 authorization details (judged by the API's own predicate —
 * the SDK cannot know what an `account_information` detail must contain for a given endpoint).
 */
import { fail } from './errors.ts';
import type { AccessTokenClaims, AuthorizationDetail, VerifyOptions } from './types.ts';

/** The token's scopes: `scope` split on spaces (RFC 6749 §3.3). */
export function scopesOf(claims: AccessTokenClaims): string[] {
  return typeof claims.scope === 'string' ? claims.scope.split(' ').filter((s) => s !== '') : [];
}

/** The token's `authorization_details`, [] when none; a malformed value makes the token invalid. */
export function authorizationDetailsOf(claims: AccessTokenClaims): AuthorizationDetail[] {
  const details: unknown = claims.authorization_details;
  if (details === undefined) return [];
  if (!Array.isArray(details) || !details.every((d) => typeof d === 'object' && d !== null && !Array.isArray(d) && typeof (d as { type?: unknown }).type === 'string')) {
    fail('ERR_INVALID_TOKEN');
  }
  return details as AuthorizationDetail[];
}

/** Fails with ERR_INSUFFICIENT_SCOPE when a required scope is missing. */
export function checkScopes(scopes: readonly string[], required: readonly string[] | undefined): void {
  if (required?.some((s) => !scopes.includes(s))) fail('ERR_INSUFFICIENT_SCOPE');
}

/** Runs the API's predicate; false or [] → ERR_INSUFFICIENT_AUTHORIZATION_DETAILS. Returns the matched details. */
export function matchAuthorizationDetails(details: AuthorizationDetail[], predicate: VerifyOptions['authorizationDetails']): AuthorizationDetail[] {
  if (!predicate) return details;
  const result = predicate(details);
  if (result === true) return details;
  if (Array.isArray(result) && result.length > 0) return result;
  return fail('ERR_INSUFFICIENT_AUTHORIZATION_DETAILS');
}
