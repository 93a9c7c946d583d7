import { exportJWK, generateKeyPair } from 'jose';
import * as oauth from 'oauth4webapi';

/** A client's private signing key: ES256 (EC P-256) with a `kid`, as registered in Sekisho's `jwks`. */
export interface ClientPrivateJwk { kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string; kid: string; alg?: 'ES256' }

/** Throws unless `jwk` is an ES256 private JWK with a kid. */
export function checkPrivateJwk(jwk: ClientPrivateJwk): ClientPrivateJwk {
  const ok = typeof jwk === 'object' && jwk !== null && jwk.kty === 'EC' && jwk.crv === 'P-256'
    && [jwk.x, jwk.y, jwk.d, jwk.kid].every((v) => typeof v === 'string' && v.length > 0) && (jwk.alg === undefined || jwk.alg === 'ES256');
  if (!ok) throw new TypeError('privateJwk must be an ES256 private JWK (kty EC, crv P-256, x, y, d) with a kid');
  return jwk;
}

/** The key for oauth4webapi's private_key_jwt and request objects: non-extractable, sign only. */
export async function importPrivateKey(jwk: ClientPrivateJwk): Promise<{ key: CryptoKey; kid: string }> {
  const key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  return { key, kid: jwk.kid };
}

/** A client's key as oauth4webapi uses it; see {@link createClientKey}. */
export interface ClientKey {
  /** The imported key (for request objects), imported on first use. */
  privateKey(): Promise<oauth.PrivateKey>;
  /** `private_key_jwt` client authentication (RFC 7523) with that key. */
  clientAuth(): Promise<oauth.ClientAuth>;
}

/** Checks `jwk` now (a TypeError when it is not an ES256 private key with a kid) and imports it once, when first used. */
export function createClientKey(jwk: ClientPrivateJwk): ClientKey {
  const checked = checkPrivateJwk(jwk);
  let key: Promise<oauth.PrivateKey> | undefined;
  const privateKey = () => (key ??= importPrivateKey(checked));
  return { privateKey, clientAuth: async () => oauth.PrivateKeyJwt(await privateKey()) };
}

/** A new ES256 client key, its kid `<prefix>-<today>`: what an example prints on its first run, to register. */
export async function newClientKey(prefix: string): Promise<ClientPrivateJwk> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `${prefix}-${new Date().toISOString().slice(0, 10)}`, alg: 'ES256' } as ClientPrivateJwk;
}
