/**
 * DPoP proofs at a resource server (RFC 9449 §4.3, §7.1): one proof, `typ` dpop+jwt, an allowed
 * `alg`, a public `jwk` that verifies the signature, `jti`/`htm`/`htu`/`iat` present, `htm` the
 * request method, `htu` the request URL (normalised), `iat` within the window, and `ath` the hash
 * of the access token. The key binding (`cnf.jkt`), the nonce and replay are checked afterwards by
 * the caller, in that order, so that a proof is remembered only once everything else holds.
 */
import { fail } from './errors.ts';
import { sha256Base64url } from './encoding.ts';
import type { TokenHashes } from './token-hashes.ts';
import { canonicalPublicJwk, importPublicKey, isSupportedAlgorithm, parseJws, verifySignature } from './jws.ts';
import { normalizeHtu } from './htu.ts';
import type { DpopNonces, ReplayStore, SigningAlgorithm } from './types.ts';

export interface DpopProofVerifierOptions {
  algorithms: ReadonlySet<SigningAlgorithm>;
  iatWindowSeconds: number;
  toleranceSeconds: number;
  replayStore: ReplayStore;
  nonces: DpopNonces | undefined;
  tokenHashes: TokenHashes;
  now?: () => number;
}

/** What the request offers: the raw `DPoP` header and what the proof must match. */
export interface ProofInput {
  header: string;
  method: string;
  /** Normalised request URL ({@link normalizeHtu}); undefined when the request URL itself is unusable. */
  htu: string | undefined;
  accessToken: string;
}

/** A proof that passed the stateless checks. */
export interface CheckedProof {
  jkt: string;
  jti: string;
  iat: number;
  nonce: string | undefined;
}

interface ProofKey {
  key: CryptoKey;
  jkt: string;
}

/** Proof keys seen recently: clients reuse one key for many proofs, so import and thumbprint once. */
const KEY_CACHE_SIZE = 1000;
const MAX_JTI_LENGTH = 256;

export function createDpopProofVerifier(options: DpopProofVerifierOptions) {
  const now = options.now ?? Date.now;
  const keys = new Map<string, Promise<ProofKey>>();
  function proofKey(jwk: Record<string, unknown>, alg: SigningAlgorithm): Promise<ProofKey> {
    const canonical = canonicalPublicJwk(jwk, alg) ?? fail('ERR_DPOP_PROOF_INVALID');
    const cacheKey = `${alg}${canonical}`;
    let entry = keys.get(cacheKey);
    if (!entry) {
      entry = Promise.all([importPublicKey(canonical, alg), sha256Base64url(canonical)])
        .then(([key, jkt]) => ({ key, jkt }), (cause: unknown) => fail('ERR_DPOP_PROOF_INVALID', cause));
      entry.catch(() => keys.delete(cacheKey));
      if (keys.size >= KEY_CACHE_SIZE) keys.delete(keys.keys().next().value!);
      keys.set(cacheKey, entry);
    }
    return entry;
  }

  return {
    /** RFC 9449 §4.3 steps 1–9, 11, 12 (all but the nonce and replay). */
    async check(input: ProofInput): Promise<CheckedProof> {
      // Several DPoP headers arrive joined with ", " and a compact JWS has no comma (§4.3 step 1).
      const jws = parseJws(input.header) ?? fail('ERR_DPOP_PROOF_INVALID');
      const { header, payload } = jws;
      if (header.typ !== 'dpop+jwt') fail('ERR_DPOP_PROOF_INVALID');
      const alg = header.alg;
      if (!isSupportedAlgorithm(alg) || !options.algorithms.has(alg)) fail('ERR_DPOP_PROOF_INVALID');
      const jwk = header.jwk;
      if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) fail('ERR_DPOP_PROOF_INVALID');
      const { jti, htm, htu, iat, ath, nonce } = payload;
      if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH
        || typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number'
        || typeof ath !== 'string' || (nonce !== undefined && typeof nonce !== 'string')) fail('ERR_DPOP_PROOF_INVALID');
      const key = proofKey(jwk as Record<string, unknown>, alg);
      const expectedAth = options.tokenHashes.hash(input.accessToken);
      // Both settle before this function returns; until then a rejection must not count as unhandled.
      key.catch(() => {});

      if (htm !== input.method) fail('ERR_DPOP_HTM_MISMATCH');
      if (input.htu === undefined || normalizeHtu(htu) !== input.htu) fail('ERR_DPOP_HTU_MISMATCH');
      const nowSeconds = now() / 1000;
      if (iat > nowSeconds + options.toleranceSeconds || iat < nowSeconds - options.iatWindowSeconds - options.toleranceSeconds) fail('ERR_DPOP_IAT');

      const { key: cryptoKey, jkt } = await key;
      if (!(await verifySignature(jws, alg, cryptoKey))) fail('ERR_DPOP_PROOF_INVALID');
      if (ath !== await expectedAth) fail('ERR_DPOP_ATH_MISMATCH');
      return { jkt, jti, iat, nonce: nonce as string | undefined };
    },

    /** §9: a proof must carry a current server nonce when nonces are on. */
    async checkNonce(proof: CheckedProof): Promise<void> {
      if (!options.nonces) return;
      if (proof.nonce === undefined || !(await options.nonces.isValid(proof.nonce))) fail('ERR_DPOP_NONCE');
    },

    /** §11.1: a `jti` is accepted once per key while its `iat` is inside the window. */
    async recordUse(proof: CheckedProof): Promise<void> {
      // The window again, now: the token's verification (an introspection round trip) may have
      // taken long enough for the first use's entry to have expired meanwhile, and a proof the
      // store no longer remembers must not be accepted either.
      const lastAcceptedMs = (proof.iat + options.iatWindowSeconds + options.toleranceSeconds) * 1000;
      if (now() > lastAcceptedMs) fail('ERR_DPOP_IAT');
      // Kept a second past the last moment the proof can pass, so that no boundary lets it through twice.
      const expiresAtMs = Math.ceil(lastAcceptedMs) + 1000;
      let first: boolean;
      try {
        first = await options.replayStore.firstUse(`${proof.jkt}:${proof.jti}`, expiresAtMs);
      } catch (cause) {
        // The store is down: refuse rather than accept a proof we cannot check (503, retry later).
        return fail('ERR_ISSUER_UNAVAILABLE', cause);
      }
      if (!first) fail('ERR_DPOP_REPLAY');
    },
  };
}
export type DpopProofVerifier = ReturnType<typeof createDpopProofVerifier>;
