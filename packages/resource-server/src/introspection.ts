/**
 * Opaque access tokens, asked of the issuer (RFC 7662), authenticated with private_key_jwt
 * (RFC 7523 §2.2, `aud` = the issuer as FAPI 2.0 SP 5.3.2.1-8 wants), optionally with a signed
 * JWT answer (RFC 9701). An answer may be cached for `cacheSeconds`, keyed by the token's SHA-256
 * (the cache holds no tokens), and never past the token's `exp`.
 *
 * Checks on an active answer: `iss` (when present) is the issuer, `aud` contains this API,
 * `exp` is in the future, `client_id` is present, and `token_type` (when present) is an access
 * token type. Not checked: encrypted RFC 9701 answers (JWE), nor anything the issuer omits.
 */
import { SignJWT } from 'jose';
import { fail, VerificationFailure } from './errors.ts';
import type { TokenHashes } from './token-hashes.ts';
import { parseJsonObject, type IssuerHttp } from './http.ts';
import type { IssuerKeys } from './issuer-keys.ts';
import type { IssuerMetadataSource } from './issuer-metadata.ts';
import { isSupportedAlgorithm, parseJws } from './jws.ts';
import { audienceContains, deepFreeze, validAudience, verifyWithIssuerKey } from './jwt-access-token.ts';
import type { AccessTokenClaims, IntrospectionOptions, SigningAlgorithm } from './types.ts';

export interface IntrospectionDeps extends IntrospectionOptions {
  issuer: string;
  audience: string;
  algorithms: ReadonlySet<SigningAlgorithm>;
  toleranceSeconds: number;
  http: IssuerHttp;
  metadata: IssuerMetadataSource;
  keys: IssuerKeys;
  tokenHashes: TokenHashes;
  now?: () => number;
}

interface CacheEntry {
  answer: Record<string, unknown>;
  expiresAtMs: number;
}

const JWT_RESPONSE_TYPE = 'application/token-introspection+jwt';
const ACCESS_TOKEN_TYPES = new Set(['bearer', 'dpop']);

export function createIntrospection(deps: IntrospectionDeps) {
  const now = deps.now ?? Date.now;
  const cacheMs = (deps.cacheSeconds ?? 0) * 1000;
  const maxEntries = deps.cacheMaxEntries ?? 10_000;
  const cache = new Map<string, CacheEntry>();
  // Concurrent requests with one token share one call to the issuer (only when caching).
  const inflight = new Map<string, Promise<Record<string, unknown>>>();
  const alg = deps.alg ?? assertionAlgorithm(deps.privateKey);

  async function endpoint(): Promise<string> {
    if (deps.endpoint) return deps.endpoint;
    const url = (await deps.metadata.get()).introspection_endpoint;
    return typeof url === 'string' ? url : fail('ERR_ISSUER_UNAVAILABLE', new Error('discovery has no introspection_endpoint'));
  }

  async function ask(token: string): Promise<Record<string, unknown>> {
    let assertion: string;
    try {
      assertion = await new SignJWT({ jti: crypto.randomUUID() })
        .setProtectedHeader({ alg, ...(deps.kid ? { kid: deps.kid } : {}) })
        .setIssuer(deps.clientId).setSubject(deps.clientId).setAudience(deps.issuer)
        .setIssuedAt().setExpirationTime('60s')
        .sign(deps.privateKey);
    } catch (cause) {
      // This API's own key is unusable: a configuration fault, not the caller's.
      return fail('ERR_ISSUER_UNAVAILABLE', cause);
    }
    const body = new URLSearchParams({
      token, token_type_hint: 'access_token', client_id: deps.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    });
    const reply = await deps.http.send(await endpoint(), {
      method: 'POST', body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: deps.jwtResponse ? JWT_RESPONSE_TYPE : 'application/json' },
    });
    // 400/401 here means this API's own credentials or configuration are wrong, not the caller's token.
    if (reply.status !== 200) fail('ERR_ISSUER_UNAVAILABLE', new Error(`introspection answered ${reply.status}`));
    const answer = deps.jwtResponse ? await verifyJwtAnswer(reply.contentType, reply.body) : parseJsonObject(reply.body);
    return answer ?? fail('ERR_ISSUER_UNAVAILABLE', new Error('introspection did not answer a JSON object'));
  }

  /** RFC 9701 §5: typ, alg, the issuer's signature, iss, aud = this client, iat, and the token_introspection member. */
  async function verifyJwtAnswer(contentType: string, body: string): Promise<Record<string, unknown>> {
    const unusable: (why: string, cause?: unknown) => never = (why, cause) => fail('ERR_ISSUER_UNAVAILABLE', cause ?? new Error(`RFC 9701 answer: ${why}`));
    if (!contentType.startsWith(JWT_RESPONSE_TYPE)) unusable(`content-type ${contentType}`);
    const jws = parseJws(body.trim()) ?? unusable('not a JWS');
    const typ = typeof jws.header.typ === 'string' ? jws.header.typ.toLowerCase() : '';
    if (typ !== 'token-introspection+jwt' && typ !== JWT_RESPONSE_TYPE) unusable('typ');
    const jwsAlg = jws.header.alg;
    if (!isSupportedAlgorithm(jwsAlg) || !deps.algorithms.has(jwsAlg)) unusable('alg');
    if (jws.header.kid !== undefined && typeof jws.header.kid !== 'string') unusable('kid');
    try {
      await verifyWithIssuerKey(jws, jwsAlg, jws.header.kid, deps.keys);
    } catch (error) {
      if (error instanceof VerificationFailure && error.code === 'ERR_ISSUER_UNAVAILABLE') throw error;
      unusable('signature', error);
    }
    const { payload } = jws;
    if (payload.iss !== deps.issuer) unusable('iss');
    if (!audienceContains(payload.aud, deps.clientId)) unusable('aud');
    if (typeof payload.iat !== 'number') unusable('iat');
    const inner = payload.token_introspection;
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) unusable('token_introspection');
    return inner as Record<string, unknown>;
  }

  async function cachedAsk(token: string): Promise<Record<string, unknown>> {
    if (cacheMs <= 0) return ask(token);
    const key = await deps.tokenHashes.hash(token);
    const at = now();
    const hit = cache.get(key);
    if (hit && hit.expiresAtMs > at) return hit.answer;
    if (hit) cache.delete(key);
    let pending = inflight.get(key);
    if (!pending) {
      pending = ask(token).finally(() => inflight.delete(key));
      inflight.set(key, pending);
      const answer = await pending;
      remember(key, answer, now());
      return answer;
    }
    return pending;
  }

  function remember(key: string, answer: Record<string, unknown>, at: number): void {
    let expiresAtMs = at + cacheMs;
    if (answer.active === true) {
      // An active answer lives no longer than the token; without an exp it is not kept at all.
      if (typeof answer.exp !== 'number') return;
      expiresAtMs = Math.min(expiresAtMs, answer.exp * 1000);
    }
    if (expiresAtMs <= at) return;
    if (cache.size >= maxEntries) {
      for (const [k, entry] of cache) if (entry.expiresAtMs <= at) cache.delete(k);
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    }
    cache.set(key, { answer, expiresAtMs });
  }

  return {
    /** The token's claims when the issuer says it is active for this API; fails with a stable code otherwise. */
    async introspect(token: string): Promise<AccessTokenClaims> {
      const answer = await cachedAsk(token);
      return checkAnswer(answer, deps, Math.floor(now() / 1000));
    },
  };
}

function checkAnswer(answer: Record<string, unknown>, deps: IntrospectionDeps, nowSeconds: number): AccessTokenClaims {
  if (answer.active !== true) fail('ERR_TOKEN_INACTIVE');
  if (answer.iss !== undefined && answer.iss !== deps.issuer) fail('ERR_WRONG_ISSUER');
  if (!audienceContains(answer.aud, deps.audience)) fail(answer.aud === undefined || validAudience(answer.aud) ? 'ERR_WRONG_AUDIENCE' : 'ERR_INVALID_TOKEN');
  const { exp, nbf } = answer;
  if (typeof exp !== 'number' || (nbf !== undefined && typeof nbf !== 'number')) fail('ERR_INVALID_TOKEN');
  if (nowSeconds >= exp + deps.toleranceSeconds) fail('ERR_TOKEN_EXPIRED');
  if (nbf !== undefined && nbf > nowSeconds + deps.toleranceSeconds) fail('ERR_TOKEN_EXPIRED');
  if (typeof answer.client_id !== 'string') fail('ERR_INVALID_TOKEN');
  // A refresh token is active too; it must not open the API.
  if (answer.token_type !== undefined && (typeof answer.token_type !== 'string' || !ACCESS_TOKEN_TYPES.has(answer.token_type.toLowerCase()))) fail('ERR_INVALID_TOKEN');
  if (answer.scope !== undefined && typeof answer.scope !== 'string') fail('ERR_INVALID_TOKEN');
  if (answer.cnf !== undefined && (typeof answer.cnf !== 'object' || answer.cnf === null || Array.isArray(answer.cnf))) fail('ERR_INVALID_TOKEN');
  const { active: _active, ...claims } = answer;
  const result = { ...claims, iss: deps.issuer } as AccessTokenClaims;
  deepFreeze(result);
  return result;
}

/** The JWS alg for the assertion key (FAPI's three). */
function assertionAlgorithm(key: CryptoKey): 'ES256' | 'PS256' | 'EdDSA' {
  const algorithm = key?.algorithm as (KeyAlgorithm & { namedCurve?: string }) | undefined;
  if (algorithm?.name === 'ECDSA' && algorithm.namedCurve === 'P-256') return 'ES256';
  if (algorithm?.name === 'RSA-PSS') return 'PS256';
  if (algorithm?.name === 'Ed25519') return 'EdDSA';
  throw new TypeError('createResourceServer: introspection.privateKey must be a P-256 ECDSA, RSA-PSS or Ed25519 private key (or set introspection.alg)');
}
