/**
 * How a phone hears of a CIBA request, through the running server: the live channel (the open
 * device app's SSE stream) and Web Push to a push service (a test receiver that verifies VAPID
 * and decrypts the payload, as a browser's push service and the browser would).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oauth from 'oauth4webapi';
import { startTestServer, type TestServer } from './support/server.ts';
import { createTestUser, type TestUser } from './support/users.ts';
import { addPasskey, linkDevice, type LinkedDevice } from './support/device.ts';
import { registerCibaClient, startCiba } from './support/ciba.ts';
import { discover } from './support/flow.ts';
import { startPushService, type PushService } from './support/push-service.ts';
import type { TestClient } from './support/clients.ts';

let server: TestServer;
let push: PushService;
let as: oauth.AuthorizationServer;
let tc: TestClient;
let patient: TestUser;
let phone: LinkedDevice;
const origin = () => new URL(server.issuer).origin;

before(async () => {
  push = await startPushService();
  const caFile = join(mkdtempSync(join(tmpdir(), 'sekisho-push-')), 'ca.pem');
  writeFileSync(caFile, push.caPem);
  server = await startTestServer({
    config: {
      ciba: { pollIntervalSeconds: 1, notifications: { retries: 2, timeoutMs: 3000, webPush: { subject: 'mailto:security@kakuu-hospital.example.jp' } } },
      // The test push service listens on loopback with a certificate from the test CA.
      outbound: { caFile, allowPrivateNetworks: true },
    },
  });
  tc = await registerCibaClient(server);
  as = await discover(server, tc);
  patient = await createTestUser(server);
  phone = await linkDevice(server, await addPasskey(server, patient.id, patient.username));
});
after(async () => {
  await server.close();
  await push.close();
});

async function subscribe(device: LinkedDevice, subscription: unknown): Promise<number> {
  const list = await (await device.ua.request(`${origin()}/device`)).text();
  const csrf = /data-csrf="([^"]+)"/.exec(list)![1]!;
  const res = await device.ua.request(`${origin()}/device/push`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, origin: origin() }, body: JSON.stringify(subscription) });
  return res.status;
}

describe('the live channel to the open device app', () => {
  it('a new request arrives on the open stream, with no auth_req_id in it', async () => {
    const res = await phone.ua.request(`${origin()}/device/events`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.getReader();
    const started = await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'LIVE-1' });
    let text = '';
    while (!/event: request\ndata: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const data = JSON.parse(/event: request\ndata: (.*)\n/.exec(text)![1]!) as { requestId: string; bindingMessage: string; clientName: string };
    assert.equal(data.bindingMessage, 'LIVE-1');
    assert.equal(data.clientName, 'Kakuu Clinic (fictional)');
    assert.ok((await phone.pending()).includes(data.requestId));
    assert.ok(!text.includes(started.auth_req_id), 'the client\'s auth_req_id never reaches the device');
  });

  it('without a linked device the stream is refused', async () => {
    const res = await fetch(`${origin()}/device/events`, { dispatcher: server.dispatcher() } as RequestInit);
    assert.equal(res.status, 401);
  });
});

describe('Web Push to a closed device app', () => {
  it('the app\'s subscription is kept, and a request reaches the push service encrypted; the receiver decrypts it', async () => {
    const key = await (await phone.ua.request(`${origin()}/device/push-key`)).json() as { publicKey: string };
    assert.match(key.publicKey, /^[A-Za-z0-9_-]{87}$/);
    const subscription = push.subscribe({ applicationServerKey: key.publicKey });
    assert.equal(await subscribe(phone, subscription), 204);
    await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'PUSH-1' });
    const received = await push.waitFor((p) => p.endpoint === subscription.endpoint && p.payload.includes('PUSH-1'), 5000);
    const message = JSON.parse(received.payload) as { kind: string; requestId: string; bindingMessage: string };
    assert.equal(message.kind, 'request');
    assert.ok((await phone.pending()).includes(message.requestId));
    assert.equal(received.vapid.sub, 'mailto:security@kakuu-hospital.example.jp');
    assert.deepEqual(push.rejected(), []);
  });

  it('a subscription the push service says is gone (410) is forgotten', async () => {
    const subscription = push.subscribe();
    assert.equal(await subscribe(phone, subscription), 204);
    push.unsubscribe(subscription.endpoint);
    await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'PUSH-2' });
    for (let i = 0; i < 100; i++) {
      const row = await server.app.storage.db.selectFrom('authentication_devices').select('push_endpoint').where('account_id', '=', patient.id).executeTakeFirstOrThrow();
      if (row.push_endpoint === null) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail('the gone subscription was kept');
  });

  it('a subscription that is not a push service URL, or has malformed keys, is refused', async () => {
    const good = push.subscribe();
    assert.equal(await subscribe(phone, { ...good, endpoint: 'http://example.com/push' }), 400);
    assert.equal(await subscribe(phone, { ...good, keys: { p256dh: 'short', auth: good.keys.auth } }), 400);
    assert.equal(await subscribe(phone, { ...good, extra: 1 }), 400);
    // A host other URL parsers read as an IP literal (`;` ends the host for url.parse): never stored.
    assert.equal(await subscribe(phone, { ...good, endpoint: 'https://169.254.169.254;x.push.example/wpush/1' }), 400);
  });
});
