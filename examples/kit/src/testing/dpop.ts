import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

/** A DPoP key pair for tests, with its public JWK and RFC 7638 thumbprint (`cnf.jkt`). */
export interface DpopKey { privateKey: CryptoKey; publicKey: CryptoKey; publicJwk: JWK; jkt: string }

/** A new ES256 DPoP key. */
export async function dpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

/** A proof's `ath`: the access token's SHA-256, base64url (RFC 9449 §4.2). */
export const athOf = (accessToken: string) => createHash('sha256').update(accessToken).digest('base64url');

/** A DPoP proof (RFC 9449 §4.2), with any claim replaceable to make a bad one (a given `iat` is kept). */
export async function dpopProof(key: DpopKey, claims: { htm: string; htu: string; accessToken?: string } & Record<string, unknown>): Promise<string> {
  const { htm, htu, accessToken, ...rest } = claims;
  const proof = new SignJWT({ htm, htu, jti: randomUUID(), ...(accessToken ? { ath: athOf(accessToken) } : {}), ...rest })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk });
  // An `iat` given is kept (a stale proof); otherwise now.
  if (rest.iat === undefined) proof.setIssuedAt();
  return proof.sign(key.privateKey);
}
