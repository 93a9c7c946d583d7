/**
 * CIBA ping mode (B7) and the ways a request names the person (B2: login_hint_token,
 * id_token_hint), user codes and acr_values, with unmodified oauth4webapi as the client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { SignJWT, exportJWK, generateKeyPair, decodeJwt } from 'jose';
import { startTestServer, testPki, type TestServer } from '../support/server.ts';
import { createTestUser, type TestUser } from '../support/users.ts';
import { addPasskey, linkDevice, type LinkedDevice } from '../support/device.ts';
import { registerCibaClient, signedCibaRequest, startCiba, pollOnce, pollError } from '../support/ciba.ts';
import { discover } from '../support/flow.ts';
import { clientAssertion, postForm, type Reply } from '../support/requests.ts';
import type { TestClient } from '../support/clients.ts';
import { createCibaUserCodes } from '../../src/ciba/user-codes.ts';

interface Ping { path: string; authorization: string | undefined; body: string }

let server: TestServer;
let as: oauth.AuthorizationServer;
let patient: TestUser;
let phone: LinkedDevice;
let receiver: Server;
let receiverUrl: string;
const pings: Ping[] = [];
let answer: (path: string) => { status: number; location?: string } = () => ({ status: 204 });
let hintKeys: CryptoKeyPair;
const HINT_ISSUER = 'https://id-hub.example.jp';

before(async () => {
  hintKeys = await generateKeyPair('ES256');
  // The clinic's notification endpoint: HTTPS with a certificate from the test CA, which Sekisho
  // is told to trust (outbound.caFile); it is on loopback, so private addresses are allowed.
  const pki = await testPki();
  const caFile = join(mkdtempSync(join(tmpdir(), 'sekisho-ping-')), 'ca.pem');
  writeFileSync(caFile, pki.caPem);
  receiver = createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c; });
    req.on('end', () => {
      pings.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
      const a = answer(req.url ?? '');
      res.writeHead(a.status, a.location ? { location: a.location } : {});
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `https://localhost:${(receiver.address() as { port: number }).port}`;
  server = await startTestServer({
    config: {
      outbound: { caFile, allowPrivateNetworks: true },
      ciba: {
        pollIntervalSeconds: 1, loginHint: ['username'], notifications: { retries: 2, timeoutMs: 2000 }, maxPendingPerClientAndPerson: 50,
        loginHintTokenIssuers: [{ issuer: HINT_ISSUER, jwks: { keys: [{ ...(await exportJWK(hintKeys.publicKey)), kid: 'hub-1', alg: 'ES256' }] } }],
      },
    },
  });
  patient = await createTestUser(server, { name: '架空 太郎', email: 'taro.kakuu@example.jp', email_verified: true });
  await server.app.storage.db.updateTable('accounts').set({ email: 'taro.kakuu@example.jp', email_verified_at: new Date() }).where('id', '=', patient.id).execute();
  phone = await linkDevice(server, await addPasskey(server, patient.id, patient.username));
});
after(async () => {
  await server.close();
  await new Promise<void>((r) => receiver.close(() => r()));
});

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function pingClient(path: string): Promise<{ tc: TestClient; as: oauth.AuthorizationServer }> {
  const tc = await registerCibaClient(server, 'ping', { backchannel_client_notification_endpoint: `${receiverUrl}${path}` });
  return { tc, as: await discover(server, tc) };
}

async function approveNext(): Promise<void> {
  const id = await waitFor(async () => (await phone.pending())[0]);
  const approved = await phone.approve(id);
  assert.equal(approved.status, 200, approved.body);
}

describe('B7: ping mode', () => {
  it('notifies the client\'s endpoint with its bearer token and the auth_req_id; the token is then fetched', async () => {
    const { tc, as } = await pingClient('/notify');
    const token = randomBytes(24).toString('base64url');
    const started = await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'PING-1', client_notification_token: token });
    await approveNext();
    const ping = await waitFor(() => pings.find((p) => p.path === '/notify'));
    assert.equal(ping.authorization, `Bearer ${token}`);
    assert.deepEqual(JSON.parse(ping.body), { auth_req_id: started.auth_req_id });
    const tokens = await pollOnce(as, tc, started.auth_req_id);
    assert.ok(tokens.access_token);
  });

  it('a ping client must send a client_notification_token', async () => {
    const { tc, as } = await pingClient('/notify-2');
    const request = await signedCibaRequest(server, tc, { scope: 'openid', login_hint: patient.username, binding_message: 'NO-TOKEN' });
    const r = await postForm(as.backchannel_authentication_endpoint!, { client_id: tc.clientId, ...(await clientAssertion(server, tc)), request }, tc.dispatcher);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_request');
  });

  it('a redirect is not followed, a failing endpoint is retried a bounded number of times, and polling still works', async () => {
    const { tc, as } = await pingClient('/moved');
    answer = (path) => (path === '/moved' ? { status: 302, location: `${receiverUrl}/elsewhere` } : { status: 204 });
    const started = await startCiba(as, server, tc, { login_hint: patient.username, binding_message: 'PING-3', client_notification_token: randomBytes(24).toString('base64url') });
    await approveNext();
    // 1 attempt + 2 retries (250 ms, 500 ms backoff), then it gives up.
    await waitFor(() => (pings.filter((p) => p.path === '/moved').length === 3 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(pings.filter((p) => p.path === '/moved').length, 3, 'bounded retries');
    assert.equal(pings.filter((p) => p.path === '/elsewhere').length, 0, 'the redirect was never followed');
    const tokens = await pollOnce(as, tc, started.auth_req_id);
    assert.ok(tokens.access_token, 'polling works when pings fail');
    answer = () => ({ status: 204 });
  });
});

describe('B2: who the request is about', () => {
  let tc: TestClient;
  let pollAs: oauth.AuthorizationServer;
  before(async () => {
    tc = await registerCibaClient(server);
    pollAs = await discover(server, tc);
  });
  const send = async (params: Record<string, unknown>): Promise<Reply> => postForm(pollAs.backchannel_authentication_endpoint!, {
    client_id: tc.clientId, ...(await clientAssertion(server, tc)),
    request: await signedCibaRequest(server, tc, { scope: 'openid', binding_message: 'HINT', ...params }),
  }, tc.dispatcher);
  const hintToken = (payload: Record<string, unknown>, exp = Math.floor(Date.now() / 1000) + 300, key = hintKeys.privateKey, iss = HINT_ISSUER) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'hub-1' }).setIssuer(iss).setAudience(server.issuer).setIssuedAt().setExpirationTime(exp).sign(key);

  it('a login_hint_token from a trusted issuer names the person (RFC 9493 sub_id: email or iss_sub)', async () => {
    assert.equal((await send({ login_hint_token: await hintToken({ sub_id: { format: 'email', email: 'taro.kakuu@example.jp' } }) })).status, 200);
    assert.equal((await send({ login_hint_token: await hintToken({ sub_id: { format: 'iss_sub', iss: server.issuer, sub: patient.id } }) })).status, 200);
    assert.equal((await send({ login_hint_token: await hintToken({ sub_id: { format: 'email', email: 'nobody@example.jp' } }) })).body.error, 'unknown_user_id');
  });

  it('a tampered, untrusted or expired login_hint_token is refused with the CIBA errors', async () => {
    const good = await hintToken({ sub_id: { format: 'email', email: 'taro.kakuu@example.jp' } });
    const [h, , sig] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ iss: HINT_ISSUER, aud: server.issuer, exp: Math.floor(Date.now() / 1000) + 300, sub_id: { format: 'iss_sub', iss: server.issuer, sub: patient.id } })).toString('base64url')}.${sig}`;
    assert.equal((await send({ login_hint_token: forged })).body.error, 'invalid_request');
    const stranger = await generateKeyPair('ES256');
    assert.equal((await send({ login_hint_token: await hintToken({ sub_id: { format: 'email', email: 'taro.kakuu@example.jp' } }, undefined, stranger.privateKey) })).body.error, 'invalid_request');
    assert.equal((await send({ login_hint_token: await hintToken({ sub_id: { format: 'email', email: 'taro.kakuu@example.jp' } }, undefined, hintKeys.privateKey, 'https://untrusted.example') })).body.error, 'invalid_request');
    const expired = await send({ login_hint_token: await hintToken({ sub_id: { format: 'email', email: 'taro.kakuu@example.jp' } }, Math.floor(Date.now() / 1000) - 60) });
    assert.equal(expired.body.error, 'expired_login_hint_token');
    assert.equal((await send({ login_hint_token: 'not-a-jwt' })).body.error, 'invalid_request');
  });

  it('an id_token_hint from an earlier sign-in names the person; a forged one does not', async () => {
    const started = await startCiba(pollAs, server, tc, { login_hint: patient.username, binding_message: 'IDT-1' });
    await approveNext();
    await new Promise((r) => setTimeout(r, 1100));
    const tokens = await pollOnce(pollAs, tc, started.auth_req_id);
    assert.equal((await send({ id_token_hint: tokens.id_token })).status, 200);
    const [h, p] = tokens.id_token!.split('.');
    assert.equal((await send({ id_token_hint: `${h}.${p}.AAAA` })).body.error, 'invalid_request');
  });
});

describe('user_code and acr_values', () => {
  it('a client registered for user codes must send the person\'s code: missing_user_code, invalid_user_code, then accepted', async () => {
    const tc = await registerCibaClient(server, 'poll', { backchannel_user_code_parameter: true });
    const codeAs = await discover(server, tc);
    await createCibaUserCodes(server.app.storage.db).set(patient.id, '4711-kakuu');
    const send = async (extra: Record<string, unknown>) => postForm(codeAs.backchannel_authentication_endpoint!, {
      client_id: tc.clientId, ...(await clientAssertion(server, tc)),
      request: await signedCibaRequest(server, tc, { scope: 'openid', binding_message: 'CODE', login_hint: patient.username, ...extra }),
    }, tc.dispatcher);
    assert.equal((await send({})).body.error, 'missing_user_code');
    assert.equal((await send({ user_code: 'wrong' })).body.error, 'invalid_user_code');
    const accepted = await send({ user_code: '4711-kakuu' });
    assert.equal(accepted.status, 200);
    const stored = await server.app.storage.db.selectFrom('oidc_models').select('payload').where('model', '=', 'BackchannelAuthenticationRequest').where('id', '=', String(accepted.body.auth_req_id)).executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(stored.payload).includes('4711-kakuu'), 'the saved request keeps no copy of the code');
  });

  it('acr_values asking for a device-bound passkey (AAL3) is not met by a synced one: the phone says so and nothing is granted', async () => {
    const tc = await registerCibaClient(server);
    const acrAs = await discover(server, tc);
    const started = await startCiba(acrAs, server, tc, { login_hint: patient.username, binding_message: 'AAL3', acr_values: 'urn:sekisho:aal3' });
    const id = await waitFor(async () => (await phone.pending())[0]);
    const refused = await phone.approve(id);
    assert.equal(refused.status, 400);
    assert.match(refused.body, /stronger passkey/);
    assert.equal(await pollError(acrAs, tc, started.auth_req_id), 'authorization_pending');
    const ok = await startCiba(acrAs, server, tc, { login_hint: patient.username, binding_message: 'AAL2', acr_values: 'urn:sekisho:aal2' });
    await phone.deny(id);
    await approveNext();
    await new Promise((r) => setTimeout(r, 1100));
    const tokens = await pollOnce(acrAs, tc, ok.auth_req_id);
    assert.equal(decodeJwt(tokens.id_token!).acr, 'urn:sekisho:aal2');
  });
});
