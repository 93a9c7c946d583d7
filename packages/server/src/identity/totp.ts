import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import QRCode from 'qrcode';
import type { Kek } from '../keys/kek.ts';
import type { Database } from '../storage/schema.ts';

/**
 * TOTP (RFC 6238) as the second factor after a password: HMAC-SHA-1, 6 digits, 30-second steps,
 * the parameters every authenticator app supports. Only node:crypto; the arithmetic is small
 * enough that a library would add more to audit than it saves.
 */

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
const KEK_PURPOSE = 'totp-secret';
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A new seed: 20 bytes, the HMAC-SHA-1 output size RFC 4226 recommends. */
export function generateTotpSecret(): Buffer {
  return randomBytes(20);
}

/** RFC 4648 base32, upper case, without padding (what otpauth URIs and apps expect). */
export function base32Encode(data: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1; // keep only the bits not yet written, so value never overflows
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes base32 as people type or paste it: any case, spaces, trailing '=' padding. Anything else
 * outside the alphabet throws rather than silently yielding a different secret.
 */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/\s+/g, '').toUpperCase().replace(/=+$/, '');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const index = BASE32_ALPHABET.indexOf(ch);
    if (index < 0) throw new Error('invalid base32 character');
    value = ((value << 5) | index) & 0xfff; // at most 12 bits are ever pending
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The code for one time step (RFC 4226 HOTP with the step as the counter). */
export function totpCode(secret: Buffer, step: number, digits = TOTP_DIGITS): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The step a code belongs to, within ±window steps of now (to allow for clock drift and the time
 * it takes to type), or undefined. Every candidate is compared, in constant time, so timing says
 * nothing about how close a guess was. Callers must refuse steps already used (see verify) and
 * throttle failures: 6 digits only resist guessing when attempts are limited.
 */
export function matchTotp(secret: Buffer, code: string, nowMs: number, window = 1): number | undefined {
  if (!/^[0-9]{6}$/.test(code)) return undefined;
  const given = Buffer.from(code);
  const current = totpStep(nowMs);
  let matched: number | undefined;
  for (let step = current - window; step <= current + window; step++) {
    if (step < 0) continue;
    if (timingSafeEqual(Buffer.from(totpCode(secret, step)), given) && matched === undefined) matched = step;
  }
  return matched;
}

/**
 * The Key URI authenticator apps scan (github.com/google/google-authenticator/wiki/Key-Uri-Format).
 * The issuer appears both as the label prefix and as a parameter, as the format recommends.
 */
export function otpauthUri(input: { issuer: string; accountName: string; secret: Buffer }): string {
  // The label uses ':' as its separator and apps decode before splitting, so a colon in either part
  // would be misread whatever the encoding.
  if (input.issuer.includes(':') || input.accountName.includes(':')) throw new Error('TOTP issuer and account name must not contain ":"');
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.accountName)}`;
  // encodeURIComponent, not URLSearchParams: apps expect %20 for a space, not '+'.
  const params: [string, string][] = [
    ['secret', base32Encode(input.secret)],
    ['issuer', input.issuer],
    ['algorithm', 'SHA1'],
    ['digits', String(TOTP_DIGITS)],
    ['period', String(TOTP_PERIOD_SECONDS)],
  ];
  return `otpauth://totp/${label}?${params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
}

/** The QR code of an otpauth URI as inline SVG markup (the CSP allows no scripts; SVG needs none). */
export function totpQrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
}

export function createTotpStore(db: Kysely<Database>, kek: Kek) {
  // The account id is bound into the envelope, so a ciphertext copied to another row fails to decrypt.
  const purpose = (accountId: string) => `${KEK_PURPOSE}:${accountId}`;
  const seal = (accountId: string, secret: Buffer) => kek.encrypt(secret.toString('base64url'), purpose(accountId));
  const open = (accountId: string, envelope: string) => Buffer.from(kek.decrypt(envelope, purpose(accountId)), 'base64url');

  return {
    /**
     * Starts (or restarts) enrollment with a fresh, unconfirmed secret and returns what the person
     * needs to add it to an app. A confirmed credential is never replaced here: that would switch
     * the second factor off until confirmation, so it must be removed explicitly first.
     */
    async beginEnrollment(accountId: string, label: { issuer: string; accountName: string }): Promise<{ secretBase32: string; uri: string }> {
      const secret = generateTotpSecret();
      const uri = otpauthUri({ ...label, secret });
      const row = await db.insertInto('totp_credentials')
        .values({ account_id: accountId, secret: seal(accountId, secret) })
        .onConflict((oc) => oc.column('account_id')
          .doUpdateSet((eb) => ({ secret: eb.ref('excluded.secret'), last_step: 0, created_at: new Date() }))
          .where('totp_credentials.confirmed_at', 'is', null))
        .returning('account_id')
        .executeTakeFirst();
      if (!row) throw new Error('TOTP is already enrolled for this account; remove it before enrolling again');
      return { secretBase32: base32Encode(secret), uri };
    },

    /** The enrollment in progress (unconfirmed), to show the same QR code again after a wrong code or a reload. */
    async pendingEnrollment(accountId: string, label: { issuer: string; accountName: string }): Promise<{ secretBase32: string; uri: string } | undefined> {
      const row = await db.selectFrom('totp_credentials').select('secret')
        .where('account_id', '=', accountId).where('confirmed_at', 'is', null).executeTakeFirst();
      if (!row) return undefined;
      const secret = open(accountId, row.secret);
      return { secretBase32: base32Encode(secret), uri: otpauthUri({ ...label, secret }) };
    },

    /** Confirms enrollment with a code from the app; the confirming code's step is used up. */
    async confirmEnrollment(accountId: string, code: string, nowMs: number = Date.now()): Promise<boolean> {
      const row = await db.selectFrom('totp_credentials').select('secret')
        .where('account_id', '=', accountId).where('confirmed_at', 'is', null).executeTakeFirst();
      if (!row) return false;
      const step = matchTotp(open(accountId, row.secret), code, nowMs);
      if (step === undefined) return false;
      // Only the secret the code was checked against: a restarted enrollment in between wins.
      const done = await db.updateTable('totp_credentials').set({ confirmed_at: new Date(), last_step: step })
        .where('account_id', '=', accountId).where('confirmed_at', 'is', null).where('secret', '=', row.secret)
        .returning('account_id').executeTakeFirst();
      return done !== undefined;
    },

    /**
     * Checks a code for a confirmed credential. The matched step is consumed by a single
     * conditional UPDATE, so a code (or any older one) succeeds at most once, even when several
     * requests race with it.
     */
    async verify(accountId: string, code: string, nowMs: number = Date.now()): Promise<boolean> {
      const row = await db.selectFrom('totp_credentials').select('secret')
        .where('account_id', '=', accountId).where('confirmed_at', 'is not', null).executeTakeFirst();
      if (!row) return false;
      const step = matchTotp(open(accountId, row.secret), code, nowMs);
      if (step === undefined) return false;
      const consumed = await db.updateTable('totp_credentials').set({ last_step: step })
        .where('account_id', '=', accountId)
        // last_step is bigint; the driver hands it over as a string, and PostgreSQL casts the parameter.
        .where('last_step', '<', String(step))
        .where('confirmed_at', 'is not', null)
        .returning('account_id').executeTakeFirst();
      return consumed !== undefined;
    },

    async isEnrolled(accountId: string): Promise<boolean> {
      const row = await db.selectFrom('totp_credentials').select('account_id')
        .where('account_id', '=', accountId).where('confirmed_at', 'is not', null).executeTakeFirst();
      return row !== undefined;
    },

    /** Removes the credential, confirmed or not; true if there was one. */
    async remove(accountId: string): Promise<boolean> {
      const result = await db.deleteFrom('totp_credentials').where('account_id', '=', accountId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
export type TotpStore = ReturnType<typeof createTotpStore>;
