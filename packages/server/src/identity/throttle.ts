/**
 * Sign-in throttling over the throttle table, following the rules in throttle-policy.ts.
 *
 * The caller, for a sign-in with a guessable factor (password, TOTP, recovery code, e-mail code):
 *   1. check([accountKey(id), ipKey(address)]): if locked, refuse without verifying, with Retry-After;
 *   2. verify; on failure recordFailure(same keys), on success recordSuccess(same keys).
 *
 * Passkeys are NOT subject to the per-account lock (the per-IP count still applies). A passkey
 * assertion is a signature by a private key that never leaves the person's authenticator: it cannot
 * be guessed, so there is nothing to slow down, and a failed assertion is not counted against the
 * account. The caller must therefore let a person whose account is locked still sign in with a
 * passkey (check only the IP key for it). That is how an attacker who hammers someone's password
 * can at worst delay their password sign-in by a quarter of an hour at a time, and never lock them
 * out: their passkey still works, and its success resets the account's count and lock.
 *
 * Failures are counted atomically in the database: one INSERT ... ON CONFLICT DO UPDATE per key
 * computes the new count, window and lock from the stored row in SQL (the same transition as
 * nextState), so concurrent failures from many processes are all counted. check() and verification
 * are not one step: requests already past check() when the lock begins are still verified, but
 * their failures are counted and lengthen the lock.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../storage/schema.ts';
import {
  DEFAULT_THROTTLE_POLICY, MAX_DOUBLINGS, combine, isLocked, nextState, ruleFor,
  type LockStatus, type ThrottlePolicy, type ThrottleRule,
} from './throttle-policy.ts';

export interface Throttle {
  /** Whether any of the keys is locked at `now` (one query), and until when. */
  check(keys: readonly string[], now?: Date): Promise<LockStatus>;
  /** Counts a failure on each key; answers whether the keys are locked now (after counting it). */
  recordFailure(keys: readonly string[], now?: Date): Promise<LockStatus>;
  /** A successful sign-in: clears the keys whose rule resets on success (the account, not the IP). */
  recordSuccess(keys: readonly string[], now?: Date): Promise<void>;
  /** Deletes rows whose window and lock have both ended (they count as gone anyway); returns how many. */
  purgeExpired(now?: Date): Promise<number>;
}

export function createThrottle(db: Kysely<Database>, policy: ThrottlePolicy = DEFAULT_THROTTLE_POLICY): Throttle {
  const unique = (keys: readonly string[]) => {
    const list = [...new Set(keys)].sort();
    for (const key of list) ruleFor(key, policy); // unknown kinds fail before touching the database
    return list;
  };

  async function failure(key: string, now: Date): Promise<LockStatus> {
    const rule = ruleFor(key, policy);
    // The row a first failure creates; a conflicting row is updated from its stored values instead.
    const first = nextState(undefined, 'failure', now, rule)!;
    const update = failureUpdate(rule, now);
    const row = await db.insertInto('throttle')
      .values({ key, failures: first.failures, window_start: first.windowStart, locked_until: first.lockedUntil, expires_at: first.expiresAt })
      .onConflict((oc) => oc.column('key').doUpdateSet({
        failures: update.failures,
        window_start: update.windowStart,
        locked_until: update.lockedUntil,
        expires_at: update.expiresAt,
      }))
      .returning(['locked_until'])
      .executeTakeFirstOrThrow();
    return isLocked({ lockedUntil: row.locked_until }, now);
  }

  return {
    async check(keys, now = new Date()) {
      const list = unique(keys);
      if (list.length === 0) return { locked: false, retryAfterSeconds: 0 };
      const rows = await db.selectFrom('throttle').select(['locked_until'])
        .where('key', 'in', list).where('locked_until', '>', now).execute();
      return combine(rows.map((r) => isLocked({ lockedUntil: r.locked_until }, now)));
    },

    async recordFailure(keys, now = new Date()) {
      return combine(await Promise.all(unique(keys).map((key) => failure(key, now))));
    },

    async recordSuccess(keys, _now = new Date()) {
      const list = unique(keys).filter((key) => ruleFor(key, policy).resetOnSuccess);
      if (list.length > 0) await db.deleteFrom('throttle').where('key', 'in', list).execute();
    },

    async purgeExpired(now = new Date()) {
      const result = await db.deleteFrom('throttle').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

/**
 * nextState(stored row, 'failure', now, rule) as SQL over the conflicting row (`throttle.*`), for
 * ON CONFLICT DO UPDATE: evaluated under the row lock on the latest committed row, so it is atomic.
 */
function failureUpdate(rule: ThrottleRule, now: Date) {
  const t = sql<Date>`cast(${now.toISOString()} as timestamptz)`;
  const seconds = (n: number | RawBuilder<number>) => sql`(cast(${n} as float8) * interval '1 second')`;
  const expired = sql<boolean>`(throttle.expires_at <= ${t})`;
  const failures = sql<number>`(CASE WHEN ${expired} THEN 1 ELSE throttle.failures + 1 END)`;
  const windowStart = rule.slidingWindow ? t : sql<Date>`(CASE WHEN ${expired} THEN ${t} ELSE throttle.window_start END)`;
  const windowEnd = sql<Date>`(${windowStart} + ${seconds(rule.windowSeconds)})`;
  const lockEnd = rule.lockSeconds === 'rest-of-window'
    ? sql<Date>`least(${windowEnd}, ${t} + ${seconds(rule.maxLockSeconds)})`
    : sql<Date>`(${t} + ${seconds(sql<number>`least(
        cast(${rule.lockSeconds} as float8) * power(cast(2 as float8), least(${failures} - cast(${rule.lockAfter} as integer), cast(${MAX_DOUBLINGS} as integer))),
        cast(${rule.maxLockSeconds} as float8))`)})`;
  const lockedUntil = sql<Date | null>`(CASE WHEN ${failures} >= cast(${rule.lockAfter} as integer) THEN ${lockEnd} END)`;
  // greatest() ignores a NULL lock.
  const expiresAt = sql<Date>`greatest(${windowEnd}, ${lockedUntil})`;
  return { failures, windowStart, lockedUntil, expiresAt };
}
