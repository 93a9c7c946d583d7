import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import webpush from 'web-push';
import { startPushService, type PushService } from '../../../test/support/push-service.ts';
import { createLogger } from '../../shared/logger.ts';
import { createNotificationDispatcher } from './dispatcher.ts';
import { DeliveryError, SubscriptionGoneError, type DeviceMessage, type DeviceTarget } from './types.ts';
import { createWebPushNotifier } from './web-push.ts';

const vapid = { subject: 'mailto:ops@sekisho.example', ...webpush.generateVAPIDKeys() };
const message = (): DeviceMessage => ({
  kind: 'request', requestId: 'req-1', clientName: '健康記録アプリ', bindingMessage: 'A1B2 を確認', expiresAt: new Date(Date.now() + 120_000),
});

describe('Web Push notifier, end to end through a push service', () => {
  let service: PushService;
  let logs: string[] = [];
  const logger = createLogger('debug', {}, (line) => logs.push(line));
  before(async () => { service = await startPushService(); });
  after(async () => { await service.close(); });
  const notifier = () => createWebPushNotifier({ vapid, timeoutMs: 2000, agent: service.agent });
  const target = (push = service.subscribe({ applicationServerKey: vapid.publicKey })): DeviceTarget => ({ deviceId: 'dev-1', accountId: 'acct-1', push });

  it('the browser decrypts exactly the message; VAPID, TTL and urgency are as sent', async () => {
    const t = target();
    const m = message();
    await notifier().deliver(t, m, AbortSignal.timeout(5000));
    const got = await service.waitFor((p) => p.endpoint === t.push?.endpoint);
    assert.deepEqual(JSON.parse(got.payload), { ...m, expiresAt: m.expiresAt.toISOString() });
    assert.equal(got.vapid.sub, vapid.subject);
    assert.equal(got.headers.urgency, 'high');
    const ttl = Number(got.headers.ttl);
    assert.ok(ttl > 110 && ttl <= 120, `TTL ${ttl} follows expiresAt`);
    assert.deepEqual(service.rejected(), []);
    assert.equal(notifier().reaches({ deviceId: 'd', accountId: 'a' }), false);
    assert.equal(notifier().reaches(t), true);
  });

  it('the receiver really decrypts: a push for other keys is refused and the delivery fails', async () => {
    const t = target();
    const other = service.subscribe();
    const wrong: DeviceTarget = { ...t, push: { endpoint: t.push!.endpoint, keys: other.keys } };
    const before = service.rejected().length;
    await assert.rejects(notifier().deliver(wrong, message(), AbortSignal.timeout(5000)), (err: unknown) => err instanceof DeliveryError && err.status === 400);
    assert.equal(service.rejected().length, before + 1);
    assert.match(service.rejected().at(-1)?.reason ?? '', /authenticate/, 'refused by AES-GCM, not by some other check');
  });

  it('410 Gone is SubscriptionGoneError; the dispatcher forgets the subscription without retrying', async () => {
    const t = target();
    service.unsubscribe(t.push!.endpoint);
    await assert.rejects(notifier().deliver(t, message(), AbortSignal.timeout(5000)), SubscriptionGoneError);
    const gone: string[] = [];
    const d = createNotificationDispatcher({ notifiers: [notifier()], retries: 3, timeoutMs: 2000, backoffMs: 1, logger, onSubscriptionGone: (id) => { gone.push(id); } });
    d.notify([t], message());
    await d.idle();
    assert.deepEqual(gone, ['dev-1']);
    assert.deepEqual(d.stats().channels['web-push'], { delivered: 0, failed: 0, gone: 1 });
  });

  it('500 twice, then accepted: delivered after two retries; errors and logs never carry the endpoint or keys', async () => {
    logs = [];
    const t = target();
    service.failNext(2, 500);
    const d = createNotificationDispatcher({ notifiers: [notifier()], retries: 3, timeoutMs: 2000, backoffMs: 5, logger });
    d.notify([t], message());
    await d.idle();
    assert.deepEqual(d.stats().channels['web-push'], { delivered: 1, failed: 0, gone: 0 });
    assert.deepEqual(service.received().filter((p) => p.endpoint === t.push?.endpoint).map((p) => p.status), [500, 500, 201]);
    assert.equal(logs.filter((l) => l.includes('device notification failed')).length, 2);
    const secretPath = new URL(t.push!.endpoint).pathname;
    for (const line of logs) {
      for (const secret of [secretPath, t.push!.keys.auth, t.push!.keys.p256dh, vapid.privateKey]) assert.ok(!line.includes(secret), line);
    }
    service.failNext(1, 503);
    const err = await notifier().deliver(t, message(), AbortSignal.timeout(5000)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof DeliveryError && err.status === 503);
    assert.ok(!err.message.includes(secretPath) && !err.message.includes(service.origin));
  });

  it('a network failure says so without quoting the endpoint', async () => {
    const t: DeviceTarget = { deviceId: 'dev-x', accountId: 'a', push: { ...service.subscribe(), endpoint: 'https://127.0.0.1:1/push/secret-capability' } };
    const err = await notifier().deliver(t, message(), AbortSignal.timeout(5000)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof DeliveryError && err.code === 'network', String(err));
    assert.doesNotMatch(err.message, /secret-capability|127\.0\.0\.1/);
  });
});
