/**
 * The issuer's signing keys (RFC 7517 JWKS): given inline, or fetched from `jwks_uri` and kept.
 * A token signed with a `kid` the cached set lacks makes one refetch (at most one per cooldown,
 * shared by concurrent requests), so key rotation needs no restart and junk kids cannot make the
 * API hammer the issuer. Keys are imported once per (key, alg) and reused.
 */
import { fail, VerificationFailure } from './errors.ts';
import { canonicalPublicJwk, importPublicKey, keyFitsAlgorithm } from './jws.ts';
import type { PublicJwk, SigningAlgorithm } from './types.ts';

export interface IssuerKeysOptions {
  /** Inline keys: never fetched. */
  jwks?: { keys: PublicJwk[] };
  /** Where to fetch them (resolved lazily, e.g. from discovery). */
  jwksUri?: () => Promise<string>;
  fetchJwks?: (uri: string) => Promise<Record<string, unknown>>;
  cooldownMs: number;
  maxAgeMs: number;
  now?: () => number;
}

export interface IssuerKeys {
  /** Changes whenever the key set changes; what was verified under an older generation must be verified again. */
  readonly generation: number;
  /** The key to verify a token signed with `alg` and header `kid`; fails with ERR_INVALID_TOKEN or ERR_ISSUER_UNAVAILABLE. */
  key(kid: string | undefined, alg: SigningAlgorithm): Promise<CryptoKey>;
  /**
   * Refreshes the key set when it is past its age (as `key` does), so that what was verified under
   * it is re-checked once the issuer has withdrawn a key; keeps the old set if the issuer is down.
   */
  refreshIfStale(): Promise<void>;
}

const FAILURE_MEMORY_MS = 2_000;

interface KeySet {
  keys: PublicJwk[];
  /** The set's JSON, to tell a refetch that changed nothing from a rotation. */
  fingerprint: string;
  fetchedAt: number;
  /** Imported keys by `${alg} ${kid ?? ''}`; a new set starts a new map. */
  imported: Map<string, Promise<CryptoKey>>;
}

export function createIssuerKeys(options: IssuerKeysOptions): IssuerKeys {
  const now = options.now ?? Date.now;
  let set: KeySet | undefined = options.jwks ? { keys: validKeys(options.jwks), fingerprint: '', fetchedAt: Infinity, imported: new Map() } : undefined;
  let generation = 0;
  const remote = !options.jwks;
  let lastAttempt = -Infinity;
  // Only refetches caused by unknown kids are rate-limited: the first fetch does not delay a rotation.
  let lastKidRefetch = -Infinity;
  let lastAttemptFailed: unknown;
  let inflight: Promise<KeySet> | undefined;

  function refresh(): Promise<KeySet> {
    inflight ??= (async () => {
      lastAttempt = now();
      try {
        const uri = await options.jwksUri!();
        const json = await options.fetchJwks!(uri);
        if (!Array.isArray(json.keys)) fail('ERR_ISSUER_UNAVAILABLE', new Error(`${uri} is not a JWK Set`));
        const keys = validKeys(json as { keys: unknown[] });
        const fingerprint = JSON.stringify(keys);
        if (set && set.fingerprint === fingerprint) {
          // Same keys as before: keep the imported CryptoKeys and everything verified with them.
          set.fetchedAt = now();
        } else {
          set = { keys, fingerprint, fetchedAt: now(), imported: new Map() };
          generation++;
        }
        lastAttemptFailed = undefined;
        return set;
      } catch (error) {
        lastAttemptFailed = error;
        throw error;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  }

  async function currentSet(): Promise<KeySet> {
    if (!set) {
      // Never had keys and the issuer just failed: answer 503 now rather than queue on a dead issuer.
      if (lastAttemptFailed !== undefined && now() - lastAttempt < FAILURE_MEMORY_MS) throw lastAttemptFailed;
      return refresh();
    }
    if (remote && now() - set.fetchedAt >= options.maxAgeMs && now() - lastAttempt >= options.cooldownMs) {
      // Past its age: refresh, but keep verifying with the old set if the issuer is down.
      try {
        return await refresh();
      } catch {
        return set;
      }
    }
    return set;
  }

  return {
    get generation() {
      return generation;
    },
    async refreshIfStale() {
      if (set) await currentSet();
    },
    async key(kid, alg) {
      let current = await currentSet();
      let found = select(current, kid, alg);
      if (!found && remote) {
        if (now() - lastKidRefetch >= options.cooldownMs) {
          lastKidRefetch = now();
          current = await refresh();
          found = select(current, kid, alg);
        } else if (lastAttemptFailed !== undefined) {
          // The issuer was down a moment ago: this kid may be a new key we could not fetch yet.
          throw lastAttemptFailed instanceof VerificationFailure ? lastAttemptFailed : new VerificationFailure('ERR_ISSUER_UNAVAILABLE', lastAttemptFailed);
        }
      }
      if (!found) fail('ERR_INVALID_TOKEN', new Error(`no issuer key for kid ${kid === undefined ? '(none)' : JSON.stringify(kid)} and ${alg}`));
      return found;
    },
  };
}

function validKeys(jwks: { keys: unknown[] }): PublicJwk[] {
  return jwks.keys.filter((k): k is PublicJwk => typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string');
}

/** The imported key for (kid, alg), or undefined when the set has no single fitting key. */
function select(set: KeySet, kid: string | undefined, alg: SigningAlgorithm): Promise<CryptoKey> | undefined {
  // An absent kid and an empty one are different requests (the empty one must match kid: "").
  const cacheKey = `${alg} ${JSON.stringify(kid ?? null)}`;
  const cached = set.imported.get(cacheKey);
  if (cached) return cached;
  const candidates = set.keys.filter((k) => (kid === undefined || k.kid === kid) && keyFitsAlgorithm(k, alg));
  // Without a kid only an unambiguous key will do; with one, kids are unique in a sane JWKS.
  if (candidates.length !== 1 && (kid === undefined || candidates.length === 0)) return undefined;
  const canonical = canonicalPublicJwk(candidates[0]!, alg);
  if (!canonical) return undefined;
  const imported = importPublicKey(canonical, alg).catch((cause: unknown) => fail('ERR_INVALID_TOKEN', cause));
  // A key WebCrypto refuses stays refused for this set; a rejected promise must not go unhandled.
  imported.catch(() => {});
  set.imported.set(cacheKey, imported);
  return imported;
}
