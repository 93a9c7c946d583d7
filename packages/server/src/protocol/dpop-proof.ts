import { hash } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, importJWK, type JWK } from 'jose';
import { FAPI_ALGS } from './algorithms.ts';

/**
 * DPoP proofs presented to a protected resource of ours (RFC 9449 §4.3 with the resource-server
 * additions of §7.1: `ath` and the token's `cnf.jkt`). The authorization server's own endpoints
 * (token, PAR, userinfo) are checked by oidc-provider; this is for routes outside it, such as the
 * Grant Management API.
 *
 * Nothing here throws on what a client sends: every refusal is a returned DpopProofError. Only an
 * injected dependency (the replay store, the nonce source) can make `verify` reject.
 */

export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce';

/** A refused proof: `error` and `description` go to the WWW-Authenticate challenge (no quotes in descriptions). */
export class DpopProofError {
  readonly status = 401;
  readonly error: DpopErrorCode;
  readonly description: string;
  /** For use_dpop_nonce: the value for the DPoP-Nonce response header. */
  readonly nonce: string | undefined;
  constructor(error: DpopErrorCode, description: string, nonce?: string) {
    this.error = error;
    this.description = description;
    this.nonce = nonce;
  }
}

/** Server-issued DPoP nonces (RFC 9449 §9), shared by every instance. */
export interface DpopNonces {
  /** Whether proofs without a nonce are refused with use_dpop_nonce. */
  required(): boolean;
  /** Whether a nonce is one we issued and is still current. */
  check(nonce: string): boolean;
  /** The nonce clients should use next. */
  next(): string;
}

export interface DpopVerifierDeps {
  /** Records a proof's jti; false when it was already recorded and has not expired (a replay). */
  unique(jti: string, expiresAtEpochSeconds: number): Promise<boolean>;
  nonces: DpopNonces;
  /** Seconds since the epoch; injectable for tests. */
  now?: () => number;
  /** How far `iat` may be from now, each way, when the proof carries no nonce. Default 60. */
  iatWindowSeconds?: number;
  /**
   * How long a jti is remembered. It must cover every moment the proof could still be accepted:
   * 2 × the iat window without a nonce, and the lifetime of a nonce with one (oidc-provider's
   * nonces stay valid up to 300 s). Default 300.
   */
  replayWindowSeconds?: number;
}

export interface DpopProofRequest {
  /** The DPoP header as received: one value, or every value when the header was repeated. */
  proof: string | readonly string[] | undefined;
  /** The request method, as the server saw it. */
  method: string;
  /** The URLs the proof may name in `htu` (the endpoint, and its mTLS alias), without query or fragment. */
  urls: readonly string[];
  /** The access token presented with the proof; its hash must be `ath`. */
  accessToken: string;
  /** The token's `cnf.jkt`: the proof must be signed by the key with this thumbprint. */
  jkt: string;
}

export type DpopProofResult =
  | { ok: true; thumbprint: string; jti: string; /** A fresher nonce to send in DPoP-Nonce, if any. */ nonce: string | undefined }
  | { ok: false; error: DpopProofError };

/** The `algs` value of a DPoP WWW-Authenticate challenge (RFC 9449 §7.1). */
export const DPOP_ALGS = FAPI_ALGS.join(' ');

/** Longer than any proof an honest client makes (an RSA-4096 jwk and signature fit in ~2 KB). */
const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const MIN_RSA_MODULUS_BYTES = 256;

type Alg = (typeof FAPI_ALGS)[number];
type Claims = { jti: string; htm: string; htu: string; iat: number; ath: string; nonce: string | undefined };

class Refusal extends Error {}

export function createDpopVerifier(deps: DpopVerifierDeps) {
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const iatWindow = deps.iatWindowSeconds ?? 60;
  const replayWindow = Math.max(deps.replayWindowSeconds ?? 300, 2 * iatWindow);

  async function verify(request: DpopProofRequest): Promise<DpopProofResult> {
    let checked: { claims: Claims; thumbprint: string };
    try {
      checked = await checkProof(request);
    } catch (err) {
      // Anything jose (or a hostile value) throws is a bad proof; the message is ours or generic.
      const description = err instanceof Refusal ? err.message : 'DPoP proof is invalid';
      return refuse('invalid_dpop_proof', description);
    }
    const { claims, thumbprint } = checked;

    // RFC 9449 §8/§9: a nonce we issued proves freshness; without one, iat must be recent.
    if (claims.nonce !== undefined) {
      if (!deps.nonces.check(claims.nonce)) return refuse('use_dpop_nonce', 'DPoP proof nonce is invalid or expired', deps.nonces.next());
    } else if (deps.nonces.required()) {
      return refuse('use_dpop_nonce', 'DPoP proof must carry a server nonce', deps.nonces.next());
    } else {
      const t = now();
      // A client with a wrong clock can still succeed by using a nonce instead (RFC 9449 §11.1).
      if (claims.iat < t - iatWindow || claims.iat > t + iatWindow) {
        return refuse('use_dpop_nonce', 'DPoP proof iat is not recent enough, use a DPoP nonce', deps.nonces.next());
      }
    }

    // Last, so that a proof refused for another reason does not use up its jti.
    if (!(await deps.unique(claims.jti, now() + replayWindow))) return refuse('invalid_dpop_proof', 'DPoP proof jti was already used');

    let nonce: string | undefined;
    if (claims.nonce !== undefined || deps.nonces.required()) {
      const next = deps.nonces.next();
      if (next !== claims.nonce) nonce = next;
    }
    return { ok: true, thumbprint, jti: claims.jti, nonce };
  }

  return { verify };
}
export type DpopVerifier = ReturnType<typeof createDpopVerifier>;

function refuse(error: DpopErrorCode, description: string, nonce?: string): DpopProofResult {
  return { ok: false, error: new DpopProofError(error, description, nonce) };
}

async function checkProof(request: DpopProofRequest): Promise<{ claims: Claims; thumbprint: string }> {
  const proof = singleProof(request.proof);
  const header = parseSegment(proof.slice(0, proof.indexOf('.')), 'header');
  const alg = header.alg;
  if (!isFapiAlg(alg)) throw new Refusal('DPoP proof alg is not allowed');
  if (typeof header.typ !== 'string' || normaliseTyp(header.typ) !== 'dpop+jwt') throw new Refusal('DPoP proof typ must be dpop+jwt');
  const jwk = publicJwk(header.jwk, alg);

  const key = await importJWK(jwk, alg);
  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(proof, key, { algorithms: [alg] }));
  } catch {
    throw new Refusal('DPoP proof signature is invalid');
  }
  const claims = readClaims(parseJson(payloadBytes, 'payload'));

  if (claims.htm !== request.method) throw new Refusal('DPoP proof htm mismatch');
  if (!htuMatches(claims.htu, request.urls)) throw new Refusal('DPoP proof htu mismatch');
  if (claims.ath !== hash('sha256', request.accessToken, 'base64url')) throw new Refusal('DPoP proof ath mismatch');
  const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
  if (thumbprint !== request.jkt) throw new Refusal('DPoP proof key does not match the access token binding');
  return { claims, thumbprint };
}

function singleProof(value: DpopProofRequest['proof']): string {
  const values = value === undefined ? [] : typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  if (values.length === 0) throw new Refusal('DPoP proof is missing');
  if (values.length > 1) throw new Refusal('exactly one DPoP header is allowed');
  const proof = values[0];
  if (typeof proof !== 'string' || proof.length === 0) throw new Refusal('DPoP proof is missing');
  if (proof.length > MAX_PROOF_LENGTH) throw new Refusal('DPoP proof is too large');
  if (!COMPACT_JWS.test(proof)) throw new Refusal('DPoP proof must be a compact JWS');
  return proof;
}

function parseSegment(segment: string, what: string): Record<string, unknown> {
  return parseJson(Buffer.from(segment, 'base64url'), what);
}

function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new Refusal(`DPoP proof ${what} is not JSON`);
  }
  if (!isObject(value)) throw new Refusal(`DPoP proof ${what} is not a JSON object`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFapiAlg(alg: unknown): alg is Alg {
  return typeof alg === 'string' && (FAPI_ALGS as readonly string[]).includes(alg);
}

/** RFC 7515 §4.1.9: a typ without a slash means application/<typ>; media types compare case-insensitively. */
function normaliseTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/**
 * The header's jwk reduced to the members RFC 7638 names for its key type, after refusing a
 * private or symmetric key and any key the algorithm or FAPI (N2) does not allow.
 */
function publicJwk(value: unknown, alg: Alg): JWK {
  if (!isObject(value)) throw new Refusal('DPoP proof jwk must be a JSON object');
  if (PRIVATE_JWK_MEMBERS.some((m) => Object.hasOwn(value, m))) throw new Refusal('DPoP proof jwk must be a public key');
  if (value.alg !== undefined && value.alg !== alg) throw new Refusal('DPoP proof jwk alg does not match the header alg');
  const str = (member: string): string => {
    const v = value[member];
    if (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v)) throw new Refusal('DPoP proof jwk is malformed');
    return v;
  };
  switch (alg) {
    case 'PS256': {
      if (value.kty !== 'RSA') throw new Refusal('DPoP proof jwk does not fit the alg');
      const n = str('n');
      if (Buffer.from(n, 'base64url').length < MIN_RSA_MODULUS_BYTES) throw new Refusal('DPoP proof RSA key is shorter than 2048 bits');
      return { kty: 'RSA', n, e: str('e') };
    }
    case 'ES256':
      if (value.kty !== 'EC' || value.crv !== 'P-256') throw new Refusal('DPoP proof jwk does not fit the alg');
      return { kty: 'EC', crv: 'P-256', x: str('x'), y: str('y') };
    case 'EdDSA':
      if (value.kty !== 'OKP' || value.crv !== 'Ed25519') throw new Refusal('DPoP proof jwk does not fit the alg');
      return { kty: 'OKP', crv: 'Ed25519', x: str('x') };
  }
}

function readClaims(payload: Record<string, unknown>): Claims {
  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw new Refusal('DPoP proof jti must be a string of 1 to 256 characters');
  if (typeof htm !== 'string') throw new Refusal('DPoP proof htm must be a string');
  if (typeof htu !== 'string') throw new Refusal('DPoP proof htu must be a string');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new Refusal('DPoP proof iat must be a number');
  if (ath === undefined) throw new Refusal('DPoP proof ath is missing');
  if (typeof ath !== 'string') throw new Refusal('DPoP proof ath must be a string');
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length === 0)) throw new Refusal('DPoP proof nonce must be a string');
  return { jti, htm, htu, iat, ath, nonce };
}

/** RFC 9449 §4.3 (DP2): query and fragment ignored; scheme, host and default port normalised by URL. */
function htuMatches(htu: string, urls: readonly string[]): boolean {
  const actual = withoutQuery(htu);
  return actual !== undefined && urls.some((url) => withoutQuery(url) === actual);
}

function withoutQuery(value: string): string | undefined {
  const url = URL.parse(value);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined;
  url.search = '';
  url.hash = '';
  return url.href;
}
