import { createDecipheriv, hkdfSync, type ECDH } from 'node:crypto';
import { importJWK, jwtVerify } from 'jose';

/**
 * What a push service and a browser do on receipt, written from the RFCs with node:crypto and
 * jose only (never with the sending library), so a mistake on the sending side cannot cancel out.
 */

/** RFC 8292 §3: `Authorization: vapid t=<JWT>, k=<P-256 public key, base64url>`; ES256, aud = the push resource's origin. */
export async function verifyVapid(authorization: string | undefined, origin: string, expectedKey?: string): Promise<{ sub: string; key: string }> {
  const match = /^vapid (.+)$/.exec(authorization ?? '');
  if (!match?.[1]) throw new Error('no vapid Authorization header');
  const params = new Map<string, string>();
  for (const part of match[1].split(',')) {
    const at = part.indexOf('=');
    if (at < 1) throw new Error('malformed vapid parameter');
    params.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const t = params.get('t');
  const k = params.get('k');
  if (!t || !k) throw new Error('vapid t and k are required');
  if (expectedKey && k !== expectedKey) throw new Error('vapid key differs from the subscription\'s applicationServerKey');
  const raw = Buffer.from(k, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('vapid k is not an uncompressed P-256 point');
  const key = await importJWK({ kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, 'ES256');
  const { payload } = await jwtVerify(t, key, { algorithms: ['ES256'], audience: origin, requiredClaims: ['exp', 'sub', 'aud'] });
  if (typeof payload.sub !== 'string' || !/^(mailto:|https:)/.test(payload.sub)) throw new Error('vapid sub must be a mailto: or https: contact');
  if ((payload.exp ?? 0) > Math.floor(Date.now() / 1000) + 86_400) throw new Error('vapid exp is more than 24 hours ahead');
  return { sub: payload.sub, key: k };
}

/**
 * RFC 8291 §3.4 + RFC 8188 §2: the aes128gcm body, a header (salt, record size, the sender's
 * ephemeral public key as keyid) and one record, decrypted with the subscriber's key and auth secret.
 */
export function decryptPushBody(body: Buffer, receiver: ECDH, authSecret: Buffer): string {
  if (body.length < 21) throw new Error('body shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] ?? 0;
  const senderKey = body.subarray(21, 21 + idlen);
  if (idlen !== 65 || senderKey[0] !== 4) throw new Error('keyid is not the sender\'s uncompressed P-256 key (RFC 8291 §4)');
  if (rs < 18) throw new Error('record size below 18');
  const ciphertext = body.subarray(21 + idlen);
  // RFC 8291 §4: one record, so the whole ciphertext fits in it.
  if (ciphertext.length < 17 || ciphertext.length > rs) throw new Error('push message is not exactly one record');
  const ecdhSecret = receiver.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), receiver.getPublicKey(), senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  // Record 0: the nonce is used as derived (XOR with sequence number 0).
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(-16));
  const plain = Buffer.concat([decipher.update(ciphertext.subarray(0, -16)), decipher.final()]);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end -= 1;
  // RFC 8188 §2: the last record's padding starts with the delimiter 0x02.
  if (end < 0 || plain[end] !== 2) throw new Error('no last-record padding delimiter');
  return plain.subarray(0, end).toString('utf8');
}
