/**
 * Compact JWS (RFC 7515) parsing and signature verification on WebCrypto, kept lean because it
 * runs twice per DPoP-bound request (the access token and the proof). Only asymmetric algorithms
 * exist here: `none`, HS* and RS* cannot be configured (RFC 8725 §3.1, FAPI 2.0 SP 5.4.1).
 */
import { decodeBase64url, decodeJsonObject, utf8 } from './encoding.ts';
import type { PublicJwk, SigningAlgorithm } from './types.ts';

/** Default algorithms: FAPI 2.0's list (SP 5.4.1). */
export const DEFAULT_ALGORITHMS: readonly SigningAlgorithm[] = ['PS256', 'ES256', 'EdDSA'];

interface AlgorithmParams {
  kty: 'EC' | 'RSA' | 'OKP';
  crv?: string;
  importParams: EcKeyImportParams | RsaHashedImportParams | Algorithm;
  verifyParams: EcdsaParams | RsaPssParams | Algorithm;
}

const ALGORITHMS: Record<SigningAlgorithm, AlgorithmParams> = {
  ES256: { kty: 'EC', crv: 'P-256', importParams: { name: 'ECDSA', namedCurve: 'P-256' }, verifyParams: { name: 'ECDSA', hash: 'SHA-256' } },
  ES384: { kty: 'EC', crv: 'P-384', importParams: { name: 'ECDSA', namedCurve: 'P-384' }, verifyParams: { name: 'ECDSA', hash: 'SHA-384' } },
  ES512: { kty: 'EC', crv: 'P-521', importParams: { name: 'ECDSA', namedCurve: 'P-521' }, verifyParams: { name: 'ECDSA', hash: 'SHA-512' } },
  PS256: { kty: 'RSA', importParams: { name: 'RSA-PSS', hash: 'SHA-256' }, verifyParams: { name: 'RSA-PSS', saltLength: 32 } },
  PS384: { kty: 'RSA', importParams: { name: 'RSA-PSS', hash: 'SHA-384' }, verifyParams: { name: 'RSA-PSS', saltLength: 48 } },
  PS512: { kty: 'RSA', importParams: { name: 'RSA-PSS', hash: 'SHA-512' }, verifyParams: { name: 'RSA-PSS', saltLength: 64 } },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', importParams: { name: 'Ed25519' }, verifyParams: { name: 'Ed25519' } },
  Ed25519: { kty: 'OKP', crv: 'Ed25519', importParams: { name: 'Ed25519' }, verifyParams: { name: 'Ed25519' } },
};

export function isSupportedAlgorithm(alg: unknown): alg is SigningAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(ALGORITHMS, alg);
}

/** A compact JWS split and decoded, not yet verified. */
export interface ParsedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Uint8Array<ArrayBuffer>;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Does this token have the shape of a compact JWS (three base64url segments)? */
export function looksLikeJws(token: string): boolean {
  return COMPACT_JWS.test(token);
}

/**
 * Splits and decodes a compact JWS whose payload is a JSON object; undefined when malformed.
 * Refuses `crit` (no extension is understood, RFC 7515 §4.1.11) and `b64: false` (RFC 7797).
 */
export function parseJws(token: string): ParsedJws | undefined {
  if (!COMPACT_JWS.test(token)) return undefined;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const header = decodeJsonObject(token.slice(0, first));
  if (!header || header.crit !== undefined || (header.b64 !== undefined && header.b64 !== true)) return undefined;
  const payload = decodeJsonObject(token.slice(first + 1, second));
  const signature = decodeBase64url(token.slice(second + 1));
  if (!payload || !signature) return undefined;
  return { header, payload, signingInput: token.slice(0, second), signature };
}

/** The public members that define a key (RFC 7638 §3.2), in lexicographic order. */
const REQUIRED_MEMBERS: Record<AlgorithmParams['kty'], readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
};
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * The RFC 7638 thumbprint input of a public key usable with `alg`, or undefined when the JWK is
 * not such a key (wrong type or curve, a missing member, or any private member present).
 */
export function canonicalPublicJwk(jwk: Record<string, unknown>, alg: SigningAlgorithm): string | undefined {
  const params = ALGORITHMS[alg];
  if (jwk.kty !== params.kty || (params.crv !== undefined && jwk.crv !== params.crv)) return undefined;
  for (const member of PRIVATE_MEMBERS) if (jwk[member] !== undefined) return undefined;
  const canonical: Record<string, string> = {};
  for (const member of REQUIRED_MEMBERS[params.kty]) {
    const value = jwk[member];
    if (typeof value !== 'string' || value.length === 0) return undefined;
    canonical[member] = value;
  }
  return JSON.stringify(canonical);
}

/**
 * Imports a public key for `alg` from its canonical JWK (see {@link canonicalPublicJwk}); RSA
 * moduli under 2048 bits are refused (FAPI 2.0 SP 5.4.1). Rejects when WebCrypto refuses the key.
 */
export async function importPublicKey(canonical: string, alg: SigningAlgorithm): Promise<CryptoKey> {
  const params = ALGORITHMS[alg];
  const key = await crypto.subtle.importKey('jwk', JSON.parse(canonical) as JsonWebKey, params.importParams, false, ['verify']);
  if (params.kty === 'RSA' && (key.algorithm as RsaHashedKeyAlgorithm).modulusLength < 2048) throw new Error('RSA key shorter than 2048 bits');
  return key;
}

/** Can this published key verify `alg`? (Its `kty`/`crv` fit, and `alg`/`use` do not say otherwise.) */
export function keyFitsAlgorithm(jwk: PublicJwk, alg: SigningAlgorithm): boolean {
  const params = ALGORITHMS[alg];
  if (jwk.kty !== params.kty || (params.crv !== undefined && jwk.crv !== params.crv)) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  // EdDSA and Ed25519 name the same algorithm (RFC 9864); a key published for one verifies the other.
  if (jwk.alg !== undefined && jwk.alg !== alg && !(params.kty === 'OKP' && (jwk.alg === 'EdDSA' || jwk.alg === 'Ed25519'))) return false;
  return true;
}

/** Verifies a parsed JWS's signature with `key`; false (never a throw) when it does not verify. */
export async function verifySignature(jws: ParsedJws, alg: SigningAlgorithm, key: CryptoKey): Promise<boolean> {
  try {
    return await crypto.subtle.verify(ALGORITHMS[alg].verifyParams, key, jws.signature, utf8(jws.signingInput));
  } catch {
    return false;
  }
}
