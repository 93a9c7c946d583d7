import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const jti = () => randomBytes(16).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/**
 * private_key_jwt (RFC 7523 §2.2, FAPI 2.0: `aud` is the issuer) with a fresh `jti` on every call,
 * signed with jose like a real client would.
 */
export async function createClientAssertions(clientId: string, issuer: string, privateJwk: JWK, kid: string) {
  const key = await importJWK(privateJwk, 'ES256');
  return async function assertion(): Promise<Record<string, string>> {
    const iat = now();
    const jwt = await new SignJWT({ jti: jti() })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(clientId).setSubject(clientId).setAudience(issuer)
      .setIssuedAt(iat).setExpirationTime(iat + 60)
      .sign(key);
    return { client_assertion_type: ASSERTION_TYPE, client_assertion: jwt };
  };
}

/** A DPoP key (one per simulated client instance) and its proofs (RFC 9449 §4.2), fresh jti each. */
export async function createDpop() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return async function proof(htm: string, htu: string): Promise<string> {
    return new SignJWT({ htm, htu, jti: jti() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .setIssuedAt()
      .sign(privateKey);
  };
}
export type DpopProver = Awaited<ReturnType<typeof createDpop>>;
