/**
 * Test material: an issuer key set, RFC 9068 access tokens and DPoP proofs made with jose, and
 * Web Requests that carry them. Every helper takes overrides so a test changes exactly one thing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

export const ISSUER = 'https://as.example.com';
export const AUDIENCE = 'https://api.example.com/';
export const API_URL = 'https://api.example.com/accounts';

export interface IssuerKeyPair {
  privateKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
}

export async function issuerKey(alg: 'ES256' | 'PS256' | 'EdDSA' = 'ES256', kid = `kid-${randomUUID().slice(0, 8)}`): Promise<IssuerKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, kid };
}

export interface DpopKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  jkt: string;
}

export async function dpopKey(alg: 'ES256' | 'PS256' | 'EdDSA' = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

export const now = () => Math.floor(Date.now() / 1000);

/** An RFC 9068 token; `claims` entries set to undefined are removed. */
export async function accessToken(key: IssuerKeyPair, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    iss: ISSUER, aud: AUDIENCE, sub: 'user-1', client_id: 'client-1', scope: 'accounts payments',
    iat: now(), exp: now() + 300, jti: randomUUID(), ...claims,
  };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  const protectedHeader: Record<string, unknown> = { alg: key.publicJwk.alg, typ: 'at+jwt', kid: key.kid, ...header };
  for (const [k, v] of Object.entries(protectedHeader)) if (v === undefined) delete protectedHeader[k];
  return new SignJWT(payload as JWTPayload).setProtectedHeader(protectedHeader as { alg: string }).sign(key.privateKey);
}

export function ath(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** A DPoP proof; `claims`/`header` override the defaults (undefined removes). */
export async function proof(key: DpopKey, token: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, signWith?: CryptoKey): Promise<string> {
  const payload: Record<string, unknown> = { jti: randomUUID(), htm: 'GET', htu: API_URL, iat: now(), ath: ath(token), ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  const alg = header.alg ?? (key.privateKey.algorithm.name === 'ECDSA' ? 'ES256' : key.privateKey.algorithm.name === 'RSA-PSS' ? 'PS256' : 'EdDSA');
  const protectedHeader: Record<string, unknown> = { typ: 'dpop+jwt', alg, jwk: key.publicJwk, ...header };
  for (const [k, v] of Object.entries(protectedHeader)) if (v === undefined) delete protectedHeader[k];
  return new SignJWT(payload as JWTPayload).setProtectedHeader(protectedHeader as { alg: string }).sign(signWith ?? key.privateKey);
}

/** A Web Request to the API with the given headers (a [name, value][] list keeps duplicates). */
export function apiRequest(headers: Record<string, string> | Array<[string, string]>, url = API_URL, method = 'GET'): Request {
  const h = new Headers();
  for (const [name, value] of Array.isArray(headers) ? headers : Object.entries(headers)) h.append(name, value);
  return new Request(url, { method, headers: h });
}

/** The usual DPoP-bound request: `Authorization: DPoP <token>` and a fresh proof. */
export async function dpopRequest(token: string, key: DpopKey, proofClaims: Record<string, unknown> = {}): Promise<Request> {
  return apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token, proofClaims) });
}

/** Signs any header and payload with an ES256 key, bypassing jose's own checks (for malformed tokens). */
export async function signRaw(header: Record<string, unknown>, payload: unknown, privateKey: CryptoKey): Promise<string> {
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const input = `${b64(JSON.stringify(header))}.${b64(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}
