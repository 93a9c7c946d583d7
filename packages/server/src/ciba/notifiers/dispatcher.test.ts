import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../shared/logger.ts';
import { createNotificationDispatcher } from './dispatcher.ts';
import { DeliveryError, type DeviceMessage, type DeviceTarget, type Notifier } from './types.ts';

const message: DeviceMessage = { kind: 'request', requestId: 'r1', clientName: 'Client', bindingMessage: 'X', expiresAt: new Date(Date.now() + 60_000) };
const targets: DeviceTarget[] = [{ deviceId: 'd1', accountId: 'a' }, { deviceId: 'd2', accountId: 'a' }];

function fake(channel: Notifier['channel'], behave: (attempt: number, target: DeviceTarget) => Promise<void>, reaches = (_t: DeviceTarget) => true) {
  const calls: string[] = [];
  const notifier: Notifier = {
    channel,
    reaches,
    deliver: (target) => { calls.push(target.deviceId); return behave(calls.filter((c) => c === target.deviceId).length, target); },
  };
  return { notifier, calls };
}

describe('notification dispatcher', () => {
  // Retry and timeout timers are unref'd by design; this keeps the test process up while it waits.
  let keepAlive: NodeJS.Timeout;
  before(() => { keepAlive = setInterval(() => {}, 1000); });
  after(() => clearInterval(keepAlive));
  const lines: string[] = [];
  const logger = createLogger('debug', {}, (l) => lines.push(l));

  it('returns at once even when a notifier hangs; idle() waits for the timeout and retries', async () => {
    const hang = fake('webhook', () => new Promise<void>(() => {}));
    const ok = fake('live', async () => {});
    const d = createNotificationDispatcher({ notifiers: [hang.notifier, ok.notifier], retries: 1, timeoutMs: 30, backoffMs: 1, logger });
    const started = performance.now();
    d.notify(targets, message);
    assert.ok(performance.now() - started < 5, 'notify does not wait');
    assert.equal(d.stats().inFlight, 4);
    await d.idle();
    assert.ok(performance.now() - started >= 55, 'two timed-out attempts were waited for');
    assert.deepEqual(hang.calls, ['d1', 'd2', 'd1', 'd2']);
    assert.deepEqual(d.stats(), {
      channels: { webhook: { delivered: 0, failed: 2, gone: 0 }, live: { delivered: 2, failed: 0, gone: 0 } }, dropped: 0, inFlight: 0,
    });
    await d.idle();
  });

  it('retries a bounded number of times with backoff, then counts a failure; success stops retrying', async () => {
    lines.length = 0;
    const flaky = fake('web-push', async (n, t) => { if (t.deviceId === 'd1' || n < 3) throw new DeliveryError('status', 'push service answered 500', 500); });
    const d = createNotificationDispatcher({ notifiers: [flaky.notifier], retries: 2, timeoutMs: 1000, backoffMs: 2, logger });
    d.notify(targets, message);
    await d.idle();
    assert.equal(flaky.calls.filter((c) => c === 'd1').length, 3, '1 + 2 retries');
    assert.equal(flaky.calls.filter((c) => c === 'd2').length, 3, 'succeeded on the third');
    assert.deepEqual(d.stats().channels['web-push'], { delivered: 1, failed: 1, gone: 0 });
    const warns = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 'warn');
    assert.equal(warns.length, 5);
    assert.deepEqual(warns[0], { ...warns[0], msg: 'device notification failed', channel: 'web-push', deviceId: 'd1', attempt: 1, of: 3, reason: 'status', status: 500 });
    assert.ok(warns.every((w) => !('message' in w) && !('endpoint' in w)));
  });

  it('skips channels that do not reach a device, and survives notifiers that throw synchronously', async () => {
    const none = fake('web-push', async () => {}, () => false);
    const broken: Notifier = { channel: 'webhook', reaches: () => { throw new Error('boom'); }, deliver: async () => {} };
    const sync: Notifier = { channel: 'live', reaches: () => true, deliver: () => { throw new Error('sync'); } };
    const d = createNotificationDispatcher({ notifiers: [none.notifier, broken, sync], retries: 0, timeoutMs: 100, logger });
    assert.doesNotThrow(() => d.notify(targets, message));
    await d.idle();
    assert.deepEqual(none.calls, []);
    assert.deepEqual(d.stats().channels.live, { delivered: 0, failed: 2, gone: 0 });
  });

  it('drops new deliveries beyond the in-flight bound, with one warning', async () => {
    lines.length = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    const slow = fake('live', () => gate);
    const d = createNotificationDispatcher({ notifiers: [slow.notifier], retries: 0, timeoutMs: 5000, logger, maxInFlight: 3 });
    d.notify([...targets, ...targets, ...targets], message);
    assert.deepEqual({ inFlight: d.stats().inFlight, dropped: d.stats().dropped }, { inFlight: 3, dropped: 3 });
    assert.equal(lines.filter((l) => l.includes('dropped')).length, 1);
    release();
    await d.idle();
    assert.deepEqual(d.stats().channels.live, { delivered: 3, failed: 0, gone: 0 });
    d.notify(targets, message);
    await d.idle();
    assert.equal(d.stats().dropped, 3, 'accepting again once below the bound');
  });

  it('idle() resolves at once when nothing is in flight', async () => {
    const d = createNotificationDispatcher({ notifiers: [], retries: 0, timeoutMs: 100, logger });
    d.notify(targets, message);
    await d.idle();
    assert.deepEqual(d.stats(), { channels: {}, dropped: 0, inFlight: 0 });
  });
});
