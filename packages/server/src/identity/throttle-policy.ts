/**
 * Sign-in throttling rules: pure functions over a counter's state, no I/O and no clock of their own
 * (every function takes `now`), so the rules are unit-tested with a fake clock. throttle.ts stores
 * the state and computes the same transition atomically in SQL.
 *
 * Two kinds of key, each with its own rule:
 * - `account:<id>`: failures of guessable factors (password, TOTP, recovery code, e-mail code) on
 *   one account. Four failures are free; the fifth locks the account for 1 minute, each further
 *   failure doubles that (2, 4, 8 ... minutes) up to 15 minutes, never more. The window slides: 15
 *   minutes without a failure reset the count, and so does a successful sign-in. An attacker can
 *   slow a person down, never lock them out for good (and passkeys are not subject to it at all,
 *   see throttle.ts).
 * - `ip:<address>` (IPv6 grouped by /64): failures from one network, whatever the account. The 50th
 *   failure within a fixed 15-minute window locks the address for the rest of that window. A
 *   success does not reset it (one valid account must not let an attacker wipe the count).
 */

/** The rule for one kind of key. */
export interface ThrottleRule {
  /** The failure that brings the count in the window to this number locks the key (and every later one). */
  readonly lockAfter: number;
  /** Length of the counting window, seconds. */
  readonly windowSeconds: number;
  /**
   * true: every failure restarts the window, so the count resets only after windowSeconds without a
   * failure. false: the window runs from the first failure counted in it.
   */
  readonly slidingWindow: boolean;
  /**
   * How long the lockAfter-th failure locks the key, seconds, doubling with each failure after it;
   * or 'rest-of-window': until the window ends.
   */
  readonly lockSeconds: number | 'rest-of-window';
  /** No lock is ever longer than this, seconds. */
  readonly maxLockSeconds: number;
  /** Whether a success clears the key's count (and any lock on it). */
  readonly resetOnSuccess: boolean;
}

/** Rules per key kind. The defaults below are what Sekisho ships; configuration may override them. */
export interface ThrottlePolicy {
  readonly account: ThrottleRule;
  readonly ip: ThrottleRule;
}

export const ACCOUNT_LOCK_AFTER_FAILURES = 5;
export const ACCOUNT_WINDOW_SECONDS = 15 * 60;
export const ACCOUNT_FIRST_LOCK_SECONDS = 60;
export const ACCOUNT_MAX_LOCK_SECONDS = 15 * 60;
export const IP_LOCK_AFTER_FAILURES = 50;
export const IP_WINDOW_SECONDS = 15 * 60;
export const IP_MAX_LOCK_SECONDS = 15 * 60;
/** IPv6 addresses are counted per /64: one subscriber usually holds a whole /64. */
export const IPV6_PREFIX_GROUPS = 4;

export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = Object.freeze({
  account: Object.freeze({
    lockAfter: ACCOUNT_LOCK_AFTER_FAILURES,
    windowSeconds: ACCOUNT_WINDOW_SECONDS,
    slidingWindow: true,
    lockSeconds: ACCOUNT_FIRST_LOCK_SECONDS,
    maxLockSeconds: ACCOUNT_MAX_LOCK_SECONDS,
    resetOnSuccess: true,
  }),
  ip: Object.freeze({
    lockAfter: IP_LOCK_AFTER_FAILURES,
    windowSeconds: IP_WINDOW_SECONDS,
    slidingWindow: false,
    lockSeconds: 'rest-of-window',
    maxLockSeconds: IP_MAX_LOCK_SECONDS,
    resetOnSuccess: false,
  }),
});

/** A key's counter, as stored in the throttle table. */
export interface ThrottleState {
  /** Failures counted in the current window. */
  failures: number;
  windowStart: Date;
  lockedUntil: Date | null;
  /** The window's end or the lock's end, whichever is later; from then on the state counts as gone. */
  expiresAt: Date;
}

export interface LockStatus {
  locked: boolean;
  /** Whole seconds until the lock ends (rounded up); 0 when not locked. */
  retryAfterSeconds: number;
}

/** Doubling stops growing past this exponent; the cap applies long before (keeps the arithmetic finite). */
export const MAX_DOUBLINGS = 30;

const SECOND = 1000;

/** The state after a failure or a success at `now`; undefined when nothing is left to keep. */
export function nextState(state: ThrottleState | undefined, event: 'failure' | 'success', now: Date, rule: ThrottleRule): ThrottleState | undefined {
  if (event === 'success') return rule.resetOnSuccess ? undefined : state;
  const fresh = !state || now.getTime() >= state.expiresAt.getTime();
  const failures = fresh ? 1 : state.failures + 1;
  const windowStart = fresh || rule.slidingWindow ? now : state.windowStart;
  const windowEnd = windowStart.getTime() + rule.windowSeconds * SECOND;
  let lockedUntil: Date | null = null;
  if (failures >= rule.lockAfter) {
    const maxEnd = now.getTime() + rule.maxLockSeconds * SECOND;
    lockedUntil = new Date(rule.lockSeconds === 'rest-of-window'
      ? Math.min(windowEnd, maxEnd)
      : now.getTime() + Math.min(rule.lockSeconds * 2 ** Math.min(failures - rule.lockAfter, MAX_DOUBLINGS), rule.maxLockSeconds) * SECOND);
  }
  return { failures, windowStart, lockedUntil, expiresAt: new Date(Math.max(windowEnd, lockedUntil?.getTime() ?? 0)) };
}

/** Whether the state locks its key at `now`, and for how many more seconds. */
export function isLocked(state: Pick<ThrottleState, 'lockedUntil'> | undefined, now: Date): LockStatus {
  const remaining = (state?.lockedUntil?.getTime() ?? 0) - now.getTime();
  return remaining > 0 ? { locked: true, retryAfterSeconds: Math.ceil(remaining / SECOND) } : { locked: false, retryAfterSeconds: 0 };
}

/** Several keys at once: locked if any is, until the last lock ends. */
export function combine(statuses: Iterable<LockStatus>): LockStatus {
  let retryAfterSeconds = 0;
  for (const s of statuses) if (s.locked) retryAfterSeconds = Math.max(retryAfterSeconds, s.retryAfterSeconds);
  return { locked: retryAfterSeconds > 0, retryAfterSeconds };
}

/** The throttle key of an account. */
export function accountKey(accountId: string): string {
  return `account:${accountId}`;
}

/**
 * The throttle key of a client address: `ip:1.2.3.4` for IPv4 (IPv4-mapped IPv6 included), the /64
 * prefix for IPv6 (`ip:2001:db8:0:1::/64`, groups in lower case without leading zeros). A zone
 * (`%eth0`) or brackets are ignored. Throws on anything that is not an IP address.
 */
export function ipKey(address: string): string {
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const v4 = parseIPv4(a);
  if (v4) return `ip:${v4.join('.')}`;
  const groups = parseIPv6(a.replace(/%[^%]*$/, ''));
  if (!groups) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
  // ::ffff:a.b.c.d is an IPv4 client seen through a dual-stack socket.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `ip:${[hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.')}`;
  }
  return `ip:${groups.slice(0, IPV6_PREFIX_GROUPS).map((g) => g.toString(16)).join(':')}::/${IPV6_PREFIX_GROUPS * 16}`;
}

/** The rule for a key (`account:...` or `ip:...`). */
export function ruleFor(key: string, policy: ThrottlePolicy): ThrottleRule {
  if (key.startsWith('account:')) return policy.account;
  if (key.startsWith('ip:')) return policy.ip;
  throw new TypeError(`unknown throttle key kind: ${JSON.stringify(key)}`);
}

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const p of parts) {
    // Decimal only, no leading zeros (which some parsers read as octal).
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function parseIPv6(s: string): number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string, last: boolean): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (const [i, item] of items.entries()) {
      if (last && i === items.length - 1 && item.includes('.')) {
        const v4 = parseIPv4(item);
        if (!v4) return undefined;
        const [a = 0, b = 0, c = 0, d = 0] = v4;
        out.push((a << 8) | b, (c << 8) | d);
      } else if (/^[0-9a-f]{1,4}$/i.test(item)) {
        out.push(parseInt(item, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const [first = '', second] = halves;
  const head = parse(first, second === undefined);
  const tail = second === undefined ? [] : parse(second, true);
  if (!head || !tail) return undefined;
  if (second === undefined) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}
