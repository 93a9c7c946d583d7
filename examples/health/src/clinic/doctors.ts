import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

export interface DoctorAccount { id: string; name: string; password: string }
export interface Doctor { id: string; name: string }

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The clinic's own accounts for its records system (not Sekisho's: the doctor signs in to the
 * clinic, the patient approves at Sekisho). Passwords are kept only as scrypt hashes, made once at
 * start; a sign-in hashes the attempt with the same salt and compares in constant time. An unknown
 * id costs the same hash, so timing does not tell which ids exist.
 */
export function createDoctors(accounts: readonly DoctorAccount[]) {
  if (!Array.isArray(accounts) || accounts.length === 0) throw new TypeError('doctors: at least one account');
  const byId = new Map<string, { doctor: Doctor; salt: Buffer; hash: Buffer }>();
  for (const a of accounts) {
    if (!ID.test(a.id)) throw new TypeError(`doctors: id ${JSON.stringify(a.id)} must be 1-64 of A-Z a-z 0-9 . _ -`);
    if (byId.has(a.id)) throw new TypeError(`doctors: ${a.id} twice`);
    if (typeof a.name !== 'string' || !a.name.trim()) throw new TypeError(`doctors: ${a.id} needs a name`);
    if (typeof a.password !== 'string' || a.password.length < 8) throw new TypeError(`doctors: ${a.id} needs a password of at least 8 characters`);
    const salt = randomBytes(16);
    byId.set(a.id, { doctor: { id: a.id, name: a.name }, salt, hash: scryptSync(a.password.normalize('NFC'), salt, 32) });
  }
  const decoy = { salt: randomBytes(16), hash: randomBytes(32) };

  return {
    async verify(id: string, password: string): Promise<Doctor | undefined> {
      const held = byId.get(id);
      const { salt, hash } = held ?? decoy;
      const attempt = await scryptAsync(password.normalize('NFC').slice(0, 1024), salt, 32);
      return timingSafeEqual(attempt, hash) && held ? held.doctor : undefined;
    },
    get: (id: string): Doctor | undefined => byId.get(id)?.doctor,
  };
}
export type Doctors = ReturnType<typeof createDoctors>;
