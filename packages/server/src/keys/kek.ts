import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope for secrets at rest: AES-256-GCM under the key-encryption key, with the purpose bound
 * as additional data so a ciphertext cannot be moved from one column or row to another.
 * Format: v1.<iv>.<ciphertext>.<tag>, base64url.
 */
export interface Kek {
  encrypt(plaintext: string, purpose: string): string;
  decrypt(envelope: string, purpose: string): string;
}

export function createKek(keyB64u: string): Kek {
  const key = Buffer.from(keyB64u, 'base64url');
  if (key.length !== 32) throw new Error('keyEncryptionKey must be 32 bytes');
  return {
    encrypt(plaintext, purpose) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(purpose));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, ct, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    decrypt(envelope, purpose) {
      const [version, iv, ct, tag] = envelope.split('.');
      if (version !== 'v1' || !iv || !ct || !tag) throw new Error('unrecognised secret envelope');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new Error(`cannot decrypt ${purpose}: wrong keyEncryptionKey or tampered data`);
      }
    },
  };
}

export function generateKekValue(): string {
  return randomBytes(32).toString('base64url');
}
