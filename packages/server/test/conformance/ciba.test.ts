/**
 * CIBA (digest section B) with unmodified oauth4webapi as the client and the device app driven
 * over HTTP by a software passkey: poll mode end to end, every request and polling error, and
 * the decision rules on the device (another account's device, after expiry, twice).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createTestUser, type TestUser } from '../support/users.ts';
import { addPasskey, linkDevice, nextRequest, type LinkedDevice } from '../support/device.ts';
import { registerCibaClient, signedCibaRequest, startCiba, pollOnce, pollError } from '../support/ciba.ts';
import { discover } from '../support/flow.ts';
import { clientAssertion, postForm, type Reply } from '../support/requests.ts';
import type { TestClient } from '../support/clients.ts';

const RS = 'https://records.example.jp/fhir';
let server: TestServer;
let as: oauth.AuthorizationServer;
let tc: TestClient;
let patient: TestUser;
let phone: LinkedDevice;

before(async () => {
  server = await startTestServer({
    config: {
      ciba: { pollIntervalSeconds: 1, loginHint: ['username', 'linked:patient_number'], maxPendingPerClientAndPerson: 20 },
      resourceServers: [{ identifier: RS, scopes: ['patient/Observation.read'], accessTokenFormat: 'jwt' }],
    },
  });
  tc = await registerCibaClient(server);
  as = await discover(server, tc);
  patient = await createTestUser(server, { name: '架空 花子' });
  phone = await linkDevice(server, await addPasskey(server, patient.id, patient.username));
});
after(() => server.close());

/** The backchannel endpoint with a hand-made body (for what oauth4webapi would never send). */
async function backchannel(form: Record<string, string>): Promise<Reply> {
  const assertion = await clientAssertion(server, tc);
  return postForm(as.backchannel_authentication_endpoint!, { client_id: tc.clientId, ...assertion, ...form }, tc.dispatcher);
}

const waitForRequest = (device: LinkedDevice) => nextRequest(device);

describe('CIBA discovery and client registration (B1)', () => {
  it('offers poll and ping, not push, and signed requests with FAPI algorithms', () => {
    assert.deepEqual(as.backchannel_token_delivery_modes_supported, ['poll', 'ping']);
    assert.ok(as.backchannel_authentication_endpoint?.endsWith('/backchannel'));
    assert.ok((as.backchannel_authentication_request_signing_alg_values_supported as string[]).every((a) => ['PS256', 'ES256', 'EdDSA'].includes(a)));
    assert.ok(as.grant_types_supported?.includes('urn:openid:params:grant-type:ciba'));
  });
});

describe('CIBA poll mode end to end', () => {
  it('B5/B6: pending, slow_down, approval on the phone with a passkey, then DPoP-bound tokens', async () => {
    const started = await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'K7-MZ4Q', requested_expiry: 120 });
    assert.ok(Buffer.from(started.auth_req_id, 'base64url').length >= 16, 'auth_req_id has at least 128 bits');
    assert.ok(started.expires_in <= 120 && started.expires_in > 100);
    assert.equal(started.interval, 1);

    assert.equal(await pollError(as, tc, started.auth_req_id), 'authorization_pending');
    assert.equal(await pollError(as, tc, started.auth_req_id), 'slow_down');

    const id = await waitForRequest(phone);
    const page = await phone.page(id);
    assert.match(page.body, /<code id="binding-message">K7-MZ4Q<\/code>/);
    assert.match(page.body, /Kakuu Clinic/);
    const approved = await phone.approve(id);
    assert.equal(approved.status, 200, approved.body);
    assert.match(approved.body, /Allowed|許可しました/);

    await new Promise((r) => setTimeout(r, 1100));
    const tokens = await pollOnce(as, tc, started.auth_req_id);
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    assert.equal(decodeJwt(tokens.id_token!).sub, patient.id);
    assert.ok(typeof (tokens as Record<string, unknown>).grant_id === 'string');
    assert.equal(tokens.refresh_token, undefined, 'a one-time CIBA consent issues no refresh token');
    // The auth_req_id is used up.
    assert.equal(await pollError(as, tc, started.auth_req_id), 'invalid_grant');
  });

  it('B6: a denial on the phone is access_denied, recorded, and nothing is issued', async () => {
    const started = await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'DENY-1' });
    const id = await waitForRequest(phone);
    const denied = await phone.deny(id);
    assert.equal(denied.status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await pollError(as, tc, started.auth_req_id), 'access_denied');
    const records = await server.app.storage.db.selectFrom('consent_records').selectAll().where('subject', '=', patient.id).where('channel', '=', 'ciba').execute();
    assert.ok(records.some((r) => r.decision === 'denied' && (r.context as { bindingMessage?: string }).bindingMessage === 'DENY-1'));
  });

  it('B6: another client\'s auth_req_id is invalid_grant', async () => {
    const started = await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'FOREIGN' });
    const other = await registerCibaClient(server);
    assert.equal(await pollError(as, other, started.auth_req_id), 'invalid_grant');
  });

  it('B6: an expired request is expired_token, and the phone can no longer approve it', async () => {
    const started = await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'EXPIRE', requested_expiry: 1 });
    const id = await waitForRequest(phone);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await pollError(as, tc, started.auth_req_id), 'expired_token');
    const late = await phone.approve(id);
    assert.equal(late.status, 409);
  });
});

describe('N3: auth_req_ids', () => {
  it('carry ≥ 128 bits (≥ 22 base64url characters), vary, and never repeat', async () => {
    const ids = await Promise.all([1, 2, 3, 4, 5].map(async (i) => (await startCiba(as, server, tc, { login_hint: patient.username, binding_message: `N3-${i}` })).auth_req_id));
    for (const id of ids) {
      assert.match(id, /^[A-Za-z0-9_-]{22,}$/);
      assert.ok(new Set(id).size >= 12, `${id} uses a varied alphabet`);
    }
    assert.equal(new Set(ids).size, ids.length);
    for (let i = 1; i < ids.length; i++) {
      let p = 0;
      while (ids[0]![p] === ids[i]![p]) p++;
      assert.ok(p < 6, `auth_req_ids share a ${p}-char prefix`);
    }
  });
});

describe('CIBA authentication request errors (B2–B5)', () => {
  const sent = async (params: Record<string, unknown>, claims: Record<string, unknown> = {}) =>
    backchannel({ request: await signedCibaRequest(server, tc, { scope: 'openid', binding_message: 'ERR', ...params }, claims) });

  it('B2: no hint, or two hints, is invalid_request; an unknown person is unknown_user_id', async () => {
    assert.equal((await sent({})).body.error, 'invalid_request');
    assert.equal((await sent({ login_hint: patient.username, id_token_hint: 'x.y.z' })).body.error, 'invalid_request');
    const unknown = await sent({ login_hint: 'nobody-here' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'unknown_user_id');
  });

  it('B2: a login_hint may be a registered patient number (a linked resource)', async () => {
    await server.app.storage.db.insertInto('linked_resources').values({ id: 'lr-ciba-1', account_id: patient.id, kind: 'patient_number', ref: 'P-000123', label: '診察券 P-000123' }).execute();
    const ok = await sent({ login_hint: 'P-000123' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('B3: an unsigned request, missing claims, a long lifetime, or a replayed jti is invalid_request; a foreign iss is 401 invalid_client', async () => {
    assert.equal((await backchannel({ scope: 'openid', login_hint: patient.username, binding_message: 'X' })).body.error, 'invalid_request');
    for (const claim of ['jti', 'nbf', 'exp', 'iat']) {
      const r = await sent({ login_hint: patient.username }, { [claim]: undefined });
      assert.equal(r.status, 400, claim);
      assert.equal(r.body.error, 'invalid_request', claim);
    }
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await sent({ login_hint: patient.username }, { exp: now + 3700 })).body.error, 'invalid_request');
    const iss = await sent({ login_hint: patient.username }, { iss: 'someone-else' });
    assert.equal(iss.status, 401);
    assert.equal(iss.body.error, 'invalid_client');
    const request = await signedCibaRequest(server, tc, { scope: 'openid', login_hint: patient.username, binding_message: 'ONCE' });
    assert.equal((await backchannel({ request })).status, 200);
    const replay = await backchannel({ request });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_request');
  });

  it('B4: a binding message that cannot be shown is invalid_binding_message; none (without authorization details) is invalid_request', async () => {
    assert.equal((await sent({ login_hint: patient.username, binding_message: 'A'.repeat(41) })).body.error, 'invalid_binding_message');
    assert.equal((await sent({ login_hint: patient.username, binding_message: 'abc\u0007' })).body.error, 'invalid_binding_message');
    assert.equal((await sent({ login_hint: patient.username, binding_message: 'abc\u202edef' })).body.error, 'invalid_binding_message');
    assert.equal((await sent({ login_hint: patient.username, binding_message: undefined })).body.error, 'invalid_request');
    assert.equal((await sent({ login_hint: patient.username, binding_message: '診察 4821' })).status, 200, 'Japanese is shown as it is');
  });

  it('B5: requested_expiry as a string or a number only shortens the maximum; nonsense is invalid_request', async () => {
    assert.equal((await sent({ login_hint: patient.username, requested_expiry: '30' })).body.expires_in, 30);
    assert.equal((await sent({ login_hint: patient.username, requested_expiry: 30 })).body.expires_in, 30);
    assert.equal((await sent({ login_hint: patient.username, requested_expiry: 99_999 })).body.expires_in, 600);
    assert.equal((await sent({ login_hint: patient.username, requested_expiry: '-5' })).body.error, 'invalid_request');
  });
});

describe('a client cannot flood a person\'s phone', () => {
  it('more than ciba.maxPendingPerClientAndPerson requests waiting for one person are refused; another person is unaffected', async () => {
    const busy = await createTestUser(server);
    const sent = async (user: TestUser, i: number) => backchannel({ request: await signedCibaRequest(server, tc, { scope: 'openid', login_hint: user.username, binding_message: `FLOOD-${i}` }) });
    for (let i = 0; i < 20; i++) assert.equal((await sent(busy, i)).status, 200, `request ${i}`);
    const refused = await sent(busy, 20);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_request');
    assert.equal((await sent(await createTestUser(server), 0)).status, 200);
  });
});

describe('Grant Management over CIBA', () => {
  it('an ongoing consent given on the phone is merged into by a later request naming its grant_id; another person\'s grant is invalid_grant_id', async () => {
    const first = await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'GM-1', scope: 'openid offline_access' });
    const id = await waitForRequest(phone);
    assert.equal((await phone.approve(id, { duration: 'ongoing' })).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    const tokens = await pollOnce(as, tc, first.auth_req_id);
    const grantId = String(tokens.grant_id);
    assert.ok(tokens.refresh_token, 'ongoing access chosen: a refresh token');

    const merged = await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'GM-2', scope: 'openid profile', grant_management_action: 'merge', grant_id: grantId });
    const second = await waitForRequest(phone);
    assert.equal((await phone.approve(second)).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    const again = await pollOnce(as, tc, merged.auth_req_id);
    assert.equal(again.grant_id, grantId, 'the same grant, merged');

    const stranger = await createTestUser(server);
    const foreign = await backchannel({ request: await signedCibaRequest(server, tc, { scope: 'openid', login_hint: stranger.username, binding_message: 'GM-3', grant_management_action: 'merge', grant_id: grantId }) });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.body.error, 'invalid_grant_id');
  });
});

describe('CIBA decisions on the device', () => {
  it('a device of another account sees nothing and cannot approve; nothing is granted', async () => {
    const other = await createTestUser(server);
    const otherPhone = await linkDevice(server, await addPasskey(server, other.id, other.username));
    const started = await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'MINE' });
    const id = await waitForRequest(phone);
    assert.deepEqual(await otherPhone.pending(), []);
    assert.equal((await otherPhone.page(id)).status, 404);
    assert.equal((await otherPhone.approve(id)).status, 404);
    // The patient's own phone with the other person's passkey: refused, shown again.
    const wrongKey = await phone.approve(id, {}, { passkey: otherPhone.authenticator });
    assert.equal(wrongKey.status, 400);
    assert.match(wrongKey.body, /passkey/i);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await pollError(as, tc, started.auth_req_id), 'authorization_pending');
  });

  it('two devices deciding at once: one decision wins', async () => {
    const second = await linkDevice(server, await addPasskey(server, patient.id, patient.username), 'Tablet');
    await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'RACE' });
    const id = await waitForRequest(phone);
    const results = await Promise.all([phone.approve(id), second.deny(id)]);
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409]);
  });

  it('a removed device (a lost phone) stops at once', async () => {
    const lost = await linkDevice(server, await addPasskey(server, patient.id, patient.username), 'Lost phone');
    await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'LOST' });
    const id = await waitForRequest(lost);
    const devices = await phone.ua.request(`${new URL(server.issuer).origin}/device/devices`);
    const body = await devices.text();
    assert.match(body, /Lost phone/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(body)![1]!;
    const rows = await server.app.storage.db.selectFrom('authentication_devices').select(['id', 'name']).where('account_id', '=', patient.id).execute();
    const target = rows.find((r) => r.name === 'Lost phone')!.id;
    const removed = await phone.ua.post(`${new URL(server.issuer).origin}/device/devices/${target}/remove`, { csrf });
    assert.equal(removed.status, 200);
    const after = await lost.page(id);
    assert.equal(after.status, 302, 'the lost phone is no longer linked: back to the link page');
  });
});
