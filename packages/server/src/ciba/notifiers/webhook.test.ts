import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeliveryError, type DeviceMessage } from './types.ts';
import { createWebhookNotifier, signWebhook, verifyWebhookSignature } from './webhook.ts';

const secret = 'a-webhook-secret-of-at-least-32-characters';
const message: DeviceMessage = { kind: 'settled', requestId: 'req-9', clientName: 'Bank', bindingMessage: null, expiresAt: new Date('2030-01-01T00:00:00Z') };
const target = { deviceId: 'dev-9', accountId: 'acct-9' };

describe('webhook notifier', () => {
  let server: Server;
  let base = '';
  const hits: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];
  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        if (req.url === '/ok') res.writeHead(204).end();
        else if (req.url === '/redirect') res.writeHead(302, { location: `${base}/stolen` }).end();
        else if (req.url === '/hang') { /* never answers */ } else res.writeHead(500).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => { server.closeAllConnections(); server.close(); await once(server, 'close'); });

  it('posts the signed event; the signature verifies, a tampered body, another secret or an old timestamp do not', async () => {
    const n = createWebhookNotifier({ url: `${base}/ok`, secret, timeoutMs: 2000 });
    assert.equal(n.reaches(target), true);
    await n.deliver(target, message, AbortSignal.timeout(5000));
    const hit = hits.at(-1)!;
    assert.equal(hit.headers['content-type'], 'application/json');
    const body = JSON.parse(hit.body) as Record<string, unknown>;
    assert.match(String(body.id), /^[A-Za-z0-9_-]{22}$/, 'a delivery id, the same for every attempt at one delivery');
    assert.deepEqual({ ...body, id: 'x' }, {
      type: 'ciba.settled', id: 'x', device_id: 'dev-9', request_id: 'req-9', client_name: 'Bank', binding_message: null, expires_at: '2030-01-01T00:00:00.000Z',
    });
    const header = String(hit.headers['sekisho-signature']);
    assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(secret, header, hit.body), true);
    assert.equal(verifyWebhookSignature(secret, header, hit.body.replace('dev-9', 'dev-8')), false);
    assert.equal(verifyWebhookSignature(`${secret}!`, header, hit.body), false);
    assert.equal(verifyWebhookSignature(secret, header, hit.body, { now: new Date(Date.now() + 301_000) }), false);
    assert.equal(verifyWebhookSignature(secret, header, hit.body, { now: new Date(Date.now() + 301_000), toleranceSeconds: 600 }), true);
  });

  it('a retry carries the same delivery id (a backend can drop what it already handled); another device or request another', async () => {
    const n = createWebhookNotifier({ url: `${base}/ok`, secret, timeoutMs: 2000 });
    const idOf = async (t: typeof target, m: DeviceMessage) => { await n.deliver(t, m, AbortSignal.timeout(5000)); return (JSON.parse(hits.at(-1)!.body) as { id: string }).id; };
    const first = await idOf(target, message);
    assert.equal(await idOf(target, message), first);
    assert.notEqual(await idOf({ ...target, deviceId: 'dev-10' }, message), first);
    assert.notEqual(await idOf(target, { ...message, requestId: 'req-10' }), first);
  });

  it('parses the header strictly and accepts a second v1 (secret rotation)', () => {
    const body = '{"a":1}';
    const good = signWebhook(secret, body);
    const other = signWebhook('another-secret', body).split(',')[1];
    assert.equal(verifyWebhookSignature(secret, `${good.split(',')[0]},${other},${good.split(',')[1]}`, body), true);
    for (const bad of [undefined, '', 'v1=abc', good.split(',')[1], `t=1,t=2,${good.split(',')[1]}`, `${good}=x`, good.replace(/v1=../, 'v1=zz')]) {
      assert.equal(verifyWebhookSignature(secret, bad, body), false, String(bad));
    }
  });

  it('a redirect is a failure and its Location is never fetched', async () => {
    const n = createWebhookNotifier({ url: `${base}/redirect`, secret });
    await assert.rejects(n.deliver(target, message, AbortSignal.timeout(5000)), (e: unknown) => e instanceof DeliveryError && e.code === 'redirect' && e.status === 302);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(hits.filter((h) => h.path === '/stolen').length, 0);
  });

  it('a non-2xx answer and a timeout are failures', async () => {
    await assert.rejects(createWebhookNotifier({ url: `${base}/fail`, secret }).deliver(target, message, AbortSignal.timeout(5000)),
      (e: unknown) => e instanceof DeliveryError && e.code === 'status' && e.status === 500);
    const started = Date.now();
    await assert.rejects(createWebhookNotifier({ url: `${base}/hang`, secret, timeoutMs: 100 }).deliver(target, message, AbortSignal.timeout(5000)),
      (e: unknown) => e instanceof DeliveryError && e.code === 'timeout');
    assert.ok(Date.now() - started < 1000);
    // The caller's signal bounds it too.
    await assert.rejects(createWebhookNotifier({ url: `${base}/hang`, secret, timeoutMs: 5000 }).deliver(target, message, AbortSignal.timeout(50)),
      (e: unknown) => e instanceof DeliveryError && e.code === 'timeout');
  });
});
