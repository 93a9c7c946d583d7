import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { availableParallelism } from 'node:os';

/**
 * Password hashing with scrypt (RFC 7914) on libuv's thread pool, so hashing never blocks the
 * event loop. Parameters follow OWASP's scrypt guidance (N=2^17, r=8, p=1: 128 MiB of work).
 * Stored as `scrypt$N$r$p$salt$hash`, so parameters can be raised later without a migration.
 */
const DEFAULT = { N: 2 ** 17, r: 8, p: 1 };
const KEY_LENGTH = 32;

/** Too many passwords are waiting to be hashed: the caller answers 503 with Retry-After. */
export class PasswordHashingBusyError extends Error {
  constructor() { super('too many password hashes waiting'); }
}

/**
 * scrypt runs on libuv's thread pool, which also runs WebCrypto (the signature checks of every
 * token request) and passkey verification. Unlimited, half-second hashes fill that pool and every
 * other request waits behind them (docs/benchmarks.md, "Identity"). So at most `concurrency`
 * hashes run at once, leaving a core and pool threads for everything else, and at most `queue`
 * wait; beyond that a password sign-in is refused at once instead of slowing the whole server.
 * Process-wide, as the thread pool is.
 */
const limits = { concurrency: Math.max(1, availableParallelism() - 1), queue: 8 * Math.max(1, availableParallelism() - 1) };
let running = 0;
const waiting: Array<() => void> = [];

export function configurePasswordHashing(options: { concurrency?: number | undefined; queue?: number | undefined }): void {
  if (options.concurrency !== undefined) limits.concurrency = Math.max(1, options.concurrency);
  limits.queue = options.queue !== undefined ? Math.max(0, options.queue) : 8 * limits.concurrency;
}

/** True when a password sign-in now would be refused: checked before any work is done for it. */
export function passwordHashingBusy(): boolean {
  return running >= limits.concurrency && waiting.length >= limits.queue;
}

async function acquire(): Promise<void> {
  if (running < limits.concurrency) { running++; return; }
  if (waiting.length >= limits.queue) throw new PasswordHashingBusyError();
  // release() hands its slot straight to the first waiter (running stays the same).
  await new Promise<void>((resolve) => waiting.push(resolve));
}

function release(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

async function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  await acquire();
  try {
    return await new Promise((resolve, reject) => {
      scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key)));
    });
  } finally {
    release();
  }
}

export async function hashPassword(password: string, params = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !N || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(N), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash of a random password: verified against when the account does not exist, so timing does not tell. */
export const dummyHash = hashPassword(randomBytes(16).toString('base64url'));
