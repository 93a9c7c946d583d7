/** Throttling over the throttle table, on every storage engine (PGlite and PostgreSQL). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../../test/support/engines.ts';
import type { Storage } from '../storage/db.ts';
import { createThrottle, type Throttle } from './throttle.ts';
import { DEFAULT_THROTTLE_POLICY, accountKey, ipKey, nextState, ruleFor, type ThrottleState } from './throttle-policy.ts';

const T0 = new Date('2030-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const UNLOCKED = { locked: false, retryAfterSeconds: 0 };
const CONCURRENT = 20;

for (const engine of ENGINES) {
  describe(`sign-in throttle on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    let throttle: Throttle;
    before(async () => {
      storage = await engine.open();
      throttle = createThrottle(storage.db);
    });
    after(() => storage?.dispose());

    const row = (key: string) => storage.db.selectFrom('throttle').selectAll().where('key', '=', key).executeTakeFirst();
    const failTimes = async (keys: string[], times: number, now: Date) => {
      for (let i = 0; i < times; i++) await throttle.recordFailure(keys, now);
    };

    it('locks an account after 5 failures, for 60 s, counting down, and unlocks when the lock has passed', async () => {
      const keys = [accountKey('lock-5')];
      await failTimes(keys, 4, T0);
      assert.deepEqual(await throttle.check(keys, T0), UNLOCKED);
      assert.deepEqual(await throttle.recordFailure(keys, T0), { locked: true, retryAfterSeconds: 60 });
      assert.deepEqual(await throttle.check(keys, T0), { locked: true, retryAfterSeconds: 60 });
      assert.deepEqual(await throttle.check(keys, at(20)), { locked: true, retryAfterSeconds: 40 });
      assert.deepEqual(await throttle.check(keys, at(59.5)), { locked: true, retryAfterSeconds: 1 });
      assert.deepEqual(await throttle.check(keys, at(60)), UNLOCKED);
      assert.deepEqual(await throttle.recordFailure(keys, at(60)), { locked: true, retryAfterSeconds: 120 }, 'the 6th failure doubles it');
      const r = await row(keys[0]!);
      assert.equal(r?.failures, 6);
      assert.equal(r?.locked_until?.getTime(), at(180).getTime());
      assert.equal(r?.expires_at.getTime(), at(60 + 900).getTime());
    });

    it('a success resets the account but not the IP', async () => {
      const keys = [accountKey('success'), ipKey('198.51.100.7')];
      await failTimes(keys, 6, T0);
      assert.equal((await throttle.check(keys, T0)).locked, true);
      await throttle.recordSuccess(keys, T0);
      assert.deepEqual(await throttle.check(keys, T0), UNLOCKED);
      assert.equal(await row(keys[0]!), undefined);
      assert.equal((await row(keys[1]!))?.failures, 6);
    });

    it('15 minutes without a failure reset the account count', async () => {
      const keys = [accountKey('window')];
      await failTimes(keys, 4, T0);
      assert.deepEqual(await throttle.recordFailure(keys, at(900)), UNLOCKED);
      assert.equal((await row(keys[0]!))?.failures, 1);
    });

    it('an IP locks at the 50th failure for the rest of its window', async () => {
      const keys = [ipKey('2001:db8:5:6::1')];
      await throttle.recordFailure(keys, T0);
      await failTimes(keys, 48, at(300));
      assert.deepEqual(await throttle.check(keys, at(300)), UNLOCKED);
      assert.deepEqual(await throttle.recordFailure([ipKey('2001:db8:5:6::ffff')], at(300)), { locked: true, retryAfterSeconds: 600 }, 'same /64');
      assert.deepEqual(await throttle.check(keys, at(900)), UNLOCKED);
    });

    it(`${CONCURRENT} concurrent failures on one account count as ${CONCURRENT}`, async () => {
      const account = accountKey('concurrent');
      const ip = ipKey('203.0.113.9');
      await Promise.all(Array.from({ length: CONCURRENT }, () => throttle.recordFailure([account, ip], T0)));
      const r = await row(account);
      assert.equal(r?.failures, CONCURRENT);
      assert.equal(r?.locked_until?.getTime(), at(900).getTime(), 'the lock of the 20th failure: capped at 15 minutes');
      assert.equal((await row(ip))?.failures, CONCURRENT);
    });

    it(`${CONCURRENT} concurrent failures from separate throttles (as separate processes) count as ${CONCURRENT}`, async () => {
      const account = accountKey('concurrent-processes');
      await Promise.all(Array.from({ length: CONCURRENT }, () => createThrottle(storage.db).recordFailure([account], T0)));
      assert.equal((await row(account))?.failures, CONCURRENT);
    });

    it('check over several keys: locked if any is, until the last lock ends', async () => {
      const a = accountKey('multi-a');
      const b = accountKey('multi-b');
      const ip = ipKey('192.0.2.200');
      await failTimes([a], 5, T0); // 60 s
      await failTimes([b], 6, T0); // 120 s
      await failTimes([ip], 3, T0);
      assert.deepEqual(await throttle.check([], T0), UNLOCKED);
      assert.deepEqual(await throttle.check([ip, accountKey('multi-none')], T0), UNLOCKED);
      assert.deepEqual(await throttle.check([a, ip], T0), { locked: true, retryAfterSeconds: 60 });
      assert.deepEqual(await throttle.check([ip, b, a, a], T0), { locked: true, retryAfterSeconds: 120 });
      assert.deepEqual(await throttle.check([a, b], at(90)), { locked: true, retryAfterSeconds: 30 });
      await assert.rejects(throttle.check(['nobody:x'], T0), TypeError);
    });

    it('the SQL transition is the same as nextState', async () => {
      for (const key of [accountKey('same-as-policy'), ipKey('192.0.2.77')]) {
        const rule = ruleFor(key, DEFAULT_THROTTLE_POLICY);
        let state: ThrottleState | undefined;
        let t = 0;
        // Bursts, pauses shorter and longer than the window, a success in the middle.
        const steps = [0, 0, 0, 0, 0, 30, 60, 0, 500, 899, 900, 1, 1, 1, 1, 1, 'success', 10, 10, 2000, 5, ...Array(60).fill(3)] as const;
        for (const step of steps) {
          if (step === 'success') {
            await throttle.recordSuccess([key], at(t));
            state = nextState(state, 'success', at(t), rule);
          } else {
            t += step;
            await throttle.recordFailure([key], at(t));
            state = nextState(state, 'failure', at(t), rule);
          }
          const r = await row(key);
          assert.deepEqual(r && { failures: r.failures, windowStart: r.window_start, lockedUntil: r.locked_until, expiresAt: r.expires_at }, state, `${key} at +${t}s`);
        }
      }
    });

    it('purgeExpired deletes the rows whose window and lock have ended, and only those', async () => {
      const purgeAt = at(100_000);
      const old = accountKey('purge-old');
      const locked = accountKey('purge-locked');
      const fresh = ipKey('192.0.2.99');
      await failTimes([old], 1, at(100_000 - 900));
      await failTimes([locked], 9, at(100_000 - 800)); // locked 900 s: until purgeAt + 100
      await failTimes([fresh], 1, at(100_000 - 10));
      assert.ok(await throttle.purgeExpired(purgeAt) >= 1);
      assert.equal(await row(old), undefined);
      assert.ok(await row(locked));
      assert.ok(await row(fresh));
      assert.deepEqual(await throttle.check([locked], purgeAt), { locked: true, retryAfterSeconds: 100 });
      assert.equal(await throttle.purgeExpired(purgeAt), 0);
      const all = await storage.db.selectFrom('throttle').select('key').execute();
      assert.equal(await throttle.purgeExpired(at(200_000)), all.length, 'much later, every row has expired');
      assert.deepEqual(await storage.db.selectFrom('throttle').select('key').execute(), []);
    });
  });
}
