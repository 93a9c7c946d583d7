/**
 * RFC 9068 JWT access tokens (§4 validation): `typ` at+jwt, an allowed asymmetric `alg`, the
 * issuer's signature, `iss`, `aud` containing this API, `exp`/`nbf`/`iat` with a tolerance, and
 * the claims §2.2 requires (`sub`, `client_id`, `iat`, `jti`). Claims are checked before the
 * signature: rejecting on an unverified claim is safe, it is cheaper, and a foreign token never
 * makes the API refetch keys. A verified token is remembered (by its exact string) so its next
 * use only repeats the time checks. Not checked here: binding (`cnf`), scopes, authorization details.
 */
import { fail } from './errors.ts';
import type { IssuerKeys } from './issuer-keys.ts';
import { isSupportedAlgorithm, parseJws, verifySignature, type ParsedJws } from './jws.ts';
import type { AccessTokenClaims, SigningAlgorithm } from './types.ts';

export interface JwtAccessTokenOptions {
  issuer: string;
  audience: string;
  algorithms: ReadonlySet<SigningAlgorithm>;
  toleranceSeconds: number;
  keys: IssuerKeys;
  /** Tokens remembered as verified (0: none). */
  cacheSize: number;
  now?: () => number;
}

/** RFC 9068 §4 step 2 accepts both spellings; media types compare case-insensitively (RFC 2045 §5.1). */
const AT_JWT_TYPES = new Set(['at+jwt', 'application/at+jwt']);

interface Verified {
  claims: AccessTokenClaims;
  generation: number;
}

export function createJwtAccessTokenVerifier(options: JwtAccessTokenOptions) {
  const now = options.now ?? Date.now;
  // A client sends the same token with every call for its whole (short) life, each time with a
  // fresh DPoP proof. The signature and the static claims of that exact string were checked the
  // first time; only the time-dependent checks are repeated, and a change of the issuer's key set
  // sends every token back through full verification.
  const verified = new Map<string, Verified>();

  return {
    /** Verifies `token` (already known to look like a JWS); fails with a stable code. */
    async verify(token: string): Promise<AccessTokenClaims> {
      const hit = verified.get(token);
      // A remembered verdict holds only while the key set it was reached under is current: past the
      // set's age it is fetched again first, so a key the issuer withdrew stops its tokens here too.
      if (hit) await options.keys.refreshIfStale();
      if (hit && hit.generation === options.keys.generation) {
        checkTimes(hit.claims, options.toleranceSeconds, Math.floor(now() / 1000));
        return hit.claims;
      }
      const jws = parseJws(token) ?? fail('ERR_INVALID_TOKEN');
      const { header, payload } = jws;
      if (typeof header.typ !== 'string' || !AT_JWT_TYPES.has(header.typ.toLowerCase())) fail('ERR_INVALID_TOKEN');
      const alg = header.alg;
      if (!isSupportedAlgorithm(alg) || !options.algorithms.has(alg)) fail('ERR_INVALID_TOKEN');
      if (header.kid !== undefined && typeof header.kid !== 'string') fail('ERR_INVALID_TOKEN');
      const claims = checkClaims(payload, options);
      checkTimes(claims, options.toleranceSeconds, Math.floor(now() / 1000));
      const generation = options.keys.generation;
      await verifyWithIssuerKey(jws, alg, header.kid, options.keys);
      deepFreeze(claims);
      if (options.cacheSize > 0 && generation === options.keys.generation) {
        if (verified.size >= options.cacheSize) verified.delete(verified.keys().next().value!);
        verified.set(token, { claims, generation });
      }
      return claims;
    },
  };
}

/** Verifies a JWS signed by the issuer (access tokens, RFC 9701 introspection responses). */
export async function verifyWithIssuerKey(jws: ParsedJws, alg: SigningAlgorithm, kid: string | undefined, keys: IssuerKeys): Promise<void> {
  const key = await keys.key(kid, alg);
  if (!(await verifySignature(jws, alg, key))) fail('ERR_INVALID_TOKEN');
}

/** The claims that do not depend on the time. */
function checkClaims(payload: Record<string, unknown>, options: JwtAccessTokenOptions): AccessTokenClaims {
  if (payload.iss !== options.issuer) fail('ERR_WRONG_ISSUER');
  const { exp, nbf, iat } = payload;
  if (typeof exp !== 'number' || typeof iat !== 'number' || (nbf !== undefined && typeof nbf !== 'number')) fail('ERR_INVALID_TOKEN');
  if (!audienceContains(payload.aud, options.audience)) fail(payload.aud === undefined || validAudience(payload.aud) ? 'ERR_WRONG_AUDIENCE' : 'ERR_INVALID_TOKEN');
  if (typeof payload.sub !== 'string' || typeof payload.client_id !== 'string' || typeof payload.jti !== 'string') fail('ERR_INVALID_TOKEN');
  if (payload.scope !== undefined && typeof payload.scope !== 'string') fail('ERR_INVALID_TOKEN');
  if (payload.cnf !== undefined && (typeof payload.cnf !== 'object' || payload.cnf === null || Array.isArray(payload.cnf))) fail('ERR_INVALID_TOKEN');
  return payload as AccessTokenClaims;
}

/** exp in the future, iat and nbf not (each within the tolerance). */
function checkTimes(claims: AccessTokenClaims, tolerance: number, nowSeconds: number): void {
  if (nowSeconds >= claims.exp + tolerance) fail('ERR_TOKEN_EXPIRED');
  // Issued or valid only in the future (beyond the skew): not yet valid.
  if ((claims.iat !== undefined && claims.iat > nowSeconds + tolerance) || (claims.nbf !== undefined && claims.nbf > nowSeconds + tolerance)) fail('ERR_TOKEN_EXPIRED');
}

/** Claims handed out more than once must not be changed by one caller under another. */
export function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const member of Object.values(value)) deepFreeze(member);
}

/** Does `aud` (a string or an array of strings, RFC 7519 §4.1.3) contain `audience`? */
export function audienceContains(aud: unknown, audience: string): boolean {
  return aud === audience || (Array.isArray(aud) && aud.includes(audience) && aud.every((a) => typeof a === 'string'));
}

export function validAudience(aud: unknown): boolean {
  return typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string'));
}
