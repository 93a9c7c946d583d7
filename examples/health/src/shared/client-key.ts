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
