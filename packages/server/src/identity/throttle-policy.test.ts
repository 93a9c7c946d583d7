import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_THROTTLE_POLICY, accountKey, combine, ipKey, isLocked, nextState, ruleFor,
  type ThrottleRule, type ThrottleState,
} from './throttle-policy.ts';

const ACCOUNT = DEFAULT_THROTTLE_POLICY.account;
const IP = DEFAULT_THROTTLE_POLICY.ip;
const MIN = 60;

/** A fake clock and one key's state, driven through the pure functions. */
function key(rule: ThrottleRule) {
  let now = new Date('2030-01-01T00:00:00Z');
  let state: ThrottleState | undefined;
  return {
    get state() { return state; },
    get now() { return now; },
    advance(seconds: number) { now = new Date(now.getTime() + seconds * 1000); },
    fail(times = 1) { for (let i = 0; i < times; i++) state = nextState(state, 'failure', now, rule); return isLocked(state, now); },
    succeed() { state = nextState(state, 'success', now, rule); },
    status() { return isLocked(state, now); },
  };
}

describe('throttle policy: per account', () => {
  it('has the documented defaults', () => {
    assert.deepEqual({ ...ACCOUNT }, { lockAfter: 5, windowSeconds: 900, slidingWindow: true, lockSeconds: 60, maxLockSeconds: 900, resetOnSuccess: true });
    assert.deepEqual({ ...IP }, { lockAfter: 50, windowSeconds: 900, slidingWindow: false, lockSeconds: 'rest-of-window', maxLockSeconds: 900, resetOnSuccess: false });
    assert.ok(Object.isFrozen(DEFAULT_THROTTLE_POLICY) && Object.isFrozen(ACCOUNT));
  });

  it('4 failures do not lock', () => {
    const k = key(ACCOUNT);
    assert.deepEqual(k.fail(4), { locked: false, retryAfterSeconds: 0 });
    assert.equal(k.state?.failures, 4);
    assert.equal(k.state?.lockedUntil, null);
  });

  it('the 5th failure locks for 60 s, the 6th for 120 s, then 240, 480, and never more than 900 s', () => {
    const k = key(ACCOUNT);
    k.fail(4);
    assert.deepEqual(k.fail(), { locked: true, retryAfterSeconds: 60 });
    assert.deepEqual(k.fail(), { locked: true, retryAfterSeconds: 120 });
    assert.deepEqual(k.fail(), { locked: true, retryAfterSeconds: 240 });
    assert.deepEqual(k.fail(), { locked: true, retryAfterSeconds: 480 });
    assert.deepEqual(k.fail(), { locked: true, retryAfterSeconds: 900 }, '960 s capped at 900');
    assert.deepEqual(k.fail(), { locked: true, retryAfterSeconds: 900 });
    assert.deepEqual(k.fail(1000), { locked: true, retryAfterSeconds: 900 }, 'no overflow, still the cap');
    assert.equal(k.state?.failures, 1010);
  });

  it('retryAfter counts down (rounded up) and the lock ends', () => {
    const k = key(ACCOUNT);
    k.fail(5);
    k.advance(20);
    assert.deepEqual(k.status(), { locked: true, retryAfterSeconds: 40 });
    k.advance(39.5);
    assert.deepEqual(k.status(), { locked: true, retryAfterSeconds: 1 });
    k.advance(0.5);
    assert.deepEqual(k.status(), { locked: false, retryAfterSeconds: 0 });
    assert.deepEqual(k.fail(), { locked: true, retryAfterSeconds: 120 }, 'the count goes on within the window');
  });

  it('a success resets the count and ends a lock', () => {
    const k = key(ACCOUNT);
    k.fail(6);
    k.succeed();
    const cleared = k.state;
    assert.equal(cleared, undefined, 'nothing left to keep');
    assert.deepEqual(k.status(), { locked: false, retryAfterSeconds: 0 });
    assert.deepEqual(k.fail(4), { locked: false, retryAfterSeconds: 0 });
    assert.equal(k.state?.failures, 4);
  });

  it('15 minutes without a failure reset the count (sliding window)', () => {
    const k = key(ACCOUNT);
    k.fail(4);
    k.advance(15 * MIN);
    assert.deepEqual(k.fail(), { locked: false, retryAfterSeconds: 0 });
    assert.equal(k.state?.failures, 1);
  });

  it('failures less than 15 minutes apart keep counting', () => {
    const k = key(ACCOUNT);
    for (let i = 0; i < 4; i++) { k.fail(); k.advance(14 * MIN); }
    assert.deepEqual(k.fail(), { locked: true, retryAfterSeconds: 60 });
    assert.equal(k.state?.failures, 5);
  });

  it('a lock never outlasts the window: once the longest lock ends the count starts over', () => {
    const k = key(ACCOUNT);
    k.fail(9);
    assert.equal(k.state?.lockedUntil?.getTime(), k.state?.expiresAt.getTime());
    k.advance(900);
    assert.deepEqual(k.status(), { locked: false, retryAfterSeconds: 0 });
    assert.deepEqual(k.fail(), { locked: false, retryAfterSeconds: 0 });
    assert.equal(k.state?.failures, 1);
  });

  it('expiresAt is the window end or the lock end, whichever is later', () => {
    const k = key(ACCOUNT);
    k.fail();
    assert.equal(k.state!.expiresAt.getTime() - k.now.getTime(), 900_000);
    const longLock: ThrottleRule = { ...ACCOUNT, windowSeconds: 60, lockAfter: 1, lockSeconds: 600, maxLockSeconds: 3600 };
    const l = key(longLock);
    l.fail();
    assert.equal(l.state!.expiresAt.getTime() - l.now.getTime(), 600_000);
    l.advance(120);
    assert.equal(l.fail().retryAfterSeconds, 1200, 'the window has passed but the lock had not: the count goes on');
  });

  it('the numbers can be overridden', () => {
    const k = key({ ...ACCOUNT, lockAfter: 3, lockSeconds: 10, maxLockSeconds: 30 });
    assert.equal(k.fail(2).locked, false);
    assert.deepEqual([k.fail(), k.fail(), k.fail(), k.fail()].map((s) => s.retryAfterSeconds), [10, 20, 30, 30]);
  });
});

describe('throttle policy: per IP', () => {
  it('49 failures do not lock; the 50th locks for the rest of the fixed window', () => {
    const k = key(IP);
    k.fail();
    k.advance(5 * MIN);
    assert.equal(k.fail(48).locked, false);
    assert.deepEqual(k.fail(), { locked: true, retryAfterSeconds: 10 * MIN });
    k.advance(MIN);
    assert.deepEqual(k.fail(), { locked: true, retryAfterSeconds: 9 * MIN }, 'further failures do not extend the lock');
  });

  it('the window is fixed: failures within it do not move it, and it resets when it ends', () => {
    const k = key(IP);
    k.fail(30);
    k.advance(14 * MIN);
    k.fail(10);
    k.advance(MIN);
    assert.equal(k.fail(19).locked, false);
    assert.equal(k.state?.failures, 19);
  });

  it('a success does not reset the IP count', () => {
    const k = key(IP);
    k.fail(50);
    k.succeed();
    assert.equal(k.state?.failures, 50);
    assert.equal(k.status().locked, true);
  });

  it('the lock is never longer than 15 minutes', () => {
    const k = key({ ...IP, windowSeconds: 3600 });
    assert.deepEqual(k.fail(50), { locked: true, retryAfterSeconds: 900 });
  });
});

describe('throttle policy: helpers', () => {
  it('isLocked / combine', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    assert.deepEqual(isLocked(undefined, now), { locked: false, retryAfterSeconds: 0 });
    assert.deepEqual(isLocked({ lockedUntil: null }, now), { locked: false, retryAfterSeconds: 0 });
    assert.deepEqual(isLocked({ lockedUntil: new Date(now.getTime() - 1) }, now), { locked: false, retryAfterSeconds: 0 });
    assert.deepEqual(isLocked({ lockedUntil: new Date(now.getTime() + 1) }, now), { locked: true, retryAfterSeconds: 1 });
    assert.deepEqual(combine([]), { locked: false, retryAfterSeconds: 0 });
    assert.deepEqual(combine([{ locked: false, retryAfterSeconds: 0 }, { locked: true, retryAfterSeconds: 30 }, { locked: true, retryAfterSeconds: 90 }]),
      { locked: true, retryAfterSeconds: 90 });
  });

  it('keys and their rules', () => {
    assert.equal(accountKey('a1'), 'account:a1');
    assert.equal(ruleFor('account:a1', DEFAULT_THROTTLE_POLICY), ACCOUNT);
    assert.equal(ruleFor(ipKey('192.0.2.1'), DEFAULT_THROTTLE_POLICY), IP);
    assert.throws(() => ruleFor('user:x', DEFAULT_THROTTLE_POLICY), TypeError);
  });

  const cases: [string, string][] = [
    ['192.0.2.1', 'ip:192.0.2.1'],
    [' 10.0.0.255 ', 'ip:10.0.0.255'],
    ['::ffff:192.0.2.1', 'ip:192.0.2.1'],
    ['::FFFF:192.0.2.1', 'ip:192.0.2.1'],
    ['::ffff:c000:201', 'ip:192.0.2.1'],
    ['0:0:0:0:0:ffff:192.0.2.1', 'ip:192.0.2.1'],
    ['2001:0db8:0001:0002:0003:0004:0005:0006', 'ip:2001:db8:1:2::/64'],
    ['2001:db8:1:2::7', 'ip:2001:db8:1:2::/64'],
    ['2001:DB8:1:2:ffff:ffff:ffff:ffff', 'ip:2001:db8:1:2::/64'],
    ['2001:db8::1', 'ip:2001:db8:0:0::/64'],
    ['2001:db8:0:0:1::1', 'ip:2001:db8:0:0::/64'],
    ['::1', 'ip:0:0:0:0::/64'],
    ['::', 'ip:0:0:0:0::/64'],
    ['fe80::1%eth0', 'ip:fe80:0:0:0::/64'],
    ['[2001:db8:a:b::1]', 'ip:2001:db8:a:b::/64'],
    ['64:ff9b::192.0.2.1', 'ip:64:ff9b:0:0::/64'],
  ];
  for (const [address, expected] of cases) {
    it(`ipKey(${JSON.stringify(address)}) = ${expected}`, () => assert.equal(ipKey(address), expected));
  }

  it('ipKey: one /64 is one key, the next /64 another', () => {
    assert.equal(ipKey('2001:db8:1:2::1'), ipKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'));
    assert.notEqual(ipKey('2001:db8:1:2::1'), ipKey('2001:db8:1:3::1'));
  });

  for (const bad of ['', 'localhost', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7::8', '::1.2.3']) {
    it(`ipKey rejects ${JSON.stringify(bad)}`, () => assert.throws(() => ipKey(bad), TypeError));
  }
});
