/**
 * My consents over HTTP: a grant's authorization details in plain words, each withdrawable on
 * its own (the tokens end; what remains is what the service gets next), an ongoing grant's end
 * brought forward (never later, only the person's own), and ended consents (withdrawn, used,
 * expired) kept visible.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from './support/server.ts';
import { registerTestClient, type TestClient } from './support/clients.ts';
import { discover, pushAuthorizationRequest, redeemCallback, runCodeFlow, withNonceRetry } from './support/flow.ts';
import { createUserAgent, type UserAgent } from './support/user-agent.ts';
import { createTestUser } from './support/users.ts';
import { createLinkedResources } from '../src/identity/linked-resources.ts';
import { createConsentLedger } from '../src/consent/ledger.ts';
import { createGrants, detailHash } from '../src/consent/grants.ts';
import { POSTGRES_SKIP } from './support/databases.ts';

const BANK = 'https://bank.example/api';
const FHIR = 'https://records.example/fhir';
const DAY = 86_400_000;

const ACCOUNT_INFO = { type: 'account_information', actions: ['read_balances', 'read_transactions'], transaction_history_days: 90 };
const FHIR_ACCESS = { type: 'fhir_record_access', resource_types: ['Patient', 'AllergyIntolerance'], actions: ['read'] };
const TRANSFER = {
  type: 'domestic_transfer', instructed_amount: { currency: 'JPY', amount: '3000' }, creditor_name: '株式会社 関所商店',
  creditor_account: { bank_code: '0005', branch_code: '123', account_type: 'ordinary', account_number: '7654321' }, requested_execution_date: '2026-12-01',
};

for (const engine of ['pglite', 'postgres'] as const) describe(`My consents on ${engine}`, { skip: engine === 'postgres' ? POSTGRES_SKIP : false }, () => {
  let server: TestServer;
  /** A client allowed account information and health records. */
  let tc: TestClient;
  /** A client of the usual kind (no authorization details). */
  let plain: TestClient;
  before(async () => {
    server = await startTestServer({
      engine,
      config: {
        resourceServers: [
          { identifier: BANK, scopes: ['accounts'], accessTokenFormat: 'opaque' },
          { identifier: FHIR, scopes: ['records'], accessTokenFormat: 'jwt' },
        ],
      },
    });
    tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', metadata: { authorization_details_types: ['account_information', 'fhir_record_access'] } });
    plain = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
  });
  after(() => server?.close());

  const db = () => server.app.storage.db;
  const ledger = () => createConsentLedger(db(), { retentionDays: 1096 });
  const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)![1]!;
  const page = async (ua: UserAgent, path = '/account/consents') => (await ua.request(`${server.issuer}${path}`)).text();
  const grantRow = (id: string) => db().selectFrom('oidc_models').select(['expires_at', 'payload']).where('model', '=', 'Grant').where('id', '=', id).executeTakeFirst();
  const termsRow = (id: string) => db().selectFrom('consent_grants').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  async function refreshFails(client: TestClient, as: oauth.AuthorizationServer, refreshToken: string) {
    const DPoP = oauth.DPoP(client.client, client.dpopKeys!);
    await assert.rejects(withNonceRetry(async () => oauth.processRefreshTokenResponse(as, client.client,
      await oauth.refreshTokenGrantRequest(as, client.client, client.clientAuth, refreshToken, { ...client.options, DPoP }))),
    (err: Error & { cause?: { error?: string } }) => err.cause?.error === 'invalid_grant');
  }

  describe('My consents: one authorization detail withdrawn on its own', () => {
    it('shows each detail in words; withdrawing one ends the tokens, and the next token carries only the other', async () => {
      const user = await createTestUser(server);
      const linked = createLinkedResources(db());
      await linked.add({ accountId: user.id, kind: 'bank_account', ref: '0001-001-1234567', label: '普通 ****4567 (Main)' });
      const savings = await linked.add({ accountId: user.id, kind: 'bank_account', ref: '0001-001-7654321', label: '貯蓄 ****4321 (Savings)' });
      await linked.add({ accountId: user.id, kind: 'fhir_patient', ref: 'Patient/123', label: '山田 太郎 (1980-04-01)' });

      const as = await discover(server, tc);
      const par = await pushAuthorizationRequest(as, tc, { scope: 'openid offline_access', resource: BANK, authorization_details: JSON.stringify([ACCOUNT_INFO, FHIR_ACCESS]) });
      const ua = createUserAgent(server.dispatcher(), server.issuer);
      const { callback } = await ua.authorize(par.authorizationUrl, { username: user.username, password: user.password, answers: { choices: { 'ad.0.accounts': ['Savings'] } } });
      const tokens = await redeemCallback(as, tc, par, callback!);
      const granted = tokens.authorization_details as Array<Record<string, unknown>>;
      assert.equal(granted.length, 2);
      const [account, records] = granted as [Record<string, unknown>, Record<string, unknown>];
      assert.deepEqual(account.accounts, [{ id: savings.id, label: '貯蓄 ****4321 (Savings)', ref: '0001-001-7654321' }]);
      const grantId = tokens.grant_id as string;

      // The same browser is signed in: its consents page names the account and the patient in words.
      const before = await page(ua);
      assert.match(before, /See your account information \(貯蓄 \*\*\*\*4321 \(Savings\)\)/);
      assert.match(before, /See your health records \(山田 太郎 \(1980-04-01\): Basic details, Allergies and adverse reactions\)/);
      assert.doesNotMatch(before, /0001-001-7654321/, 'the account number is not on the page');
      assert.match(before, /Withdraw “See your health records \(山田 太郎/, 'each detail has its own named button');
      const parts = [...before.matchAll(/name="part" value="(detail:[^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(parts, [`detail:${detailHash(account)}`, `detail:${detailHash(records)}`]);

      const withdrawn = await ua.post(`${server.issuer}/account/consents/withdraw-part`, { csrf: csrfOf(before), id: grantId, part: `detail:${detailHash(records)}` });
      assert.equal(withdrawn.headers.get('location'), '/account/consents?done=part-withdrawn');
      await refreshFails(tc, as, tokens.refresh_token!);

      const [record] = await ledger().forSubject(user.id, 1);
      assert.equal(record!.action, 'revoke');
      assert.deepEqual(record!.requested.authorizationDetails, [records], 'what was withdrawn');
      assert.deepEqual(record!.granted.authorizationDetails, [account], 'what remains');

      const after = await page(ua);
      const active = /<ul class="grants" id="grants">[\s\S]*?<\/section>/.exec(after)![0];
      assert.match(active, /See your account information \(貯蓄/);
      assert.doesNotMatch(active, /See your health records/, 'gone from the active grant');
      assert.deepEqual((await createGrants(db()).managementView(grantId))?.body.authorization_details, [account], 'the Grant Management view agrees');

      // The next authorization in the same browser reuses the grant: its token carries the account detail only.
      const next = await runCodeFlow(server, tc, {}, { scope: 'openid', resource: BANK, prompt: '' }, ua);
      assert.equal(next.tokens.grant_id, grantId, 'the same grant, not a new consent');
      assert.deepEqual(next.tokens.authorization_details, [account]);
      const introspected = await oauth.processIntrospectionResponse(as, tc.client,
        await oauth.introspectionRequest(as, tc.client, tc.clientAuth, next.tokens.access_token, tc.options));
      assert.equal(introspected.active, true);
      assert.deepEqual(introspected.authorization_details, [account]);
      assert.equal((await ledger().verify()).ok, true);
    });
  });

  describe('My consents: an ongoing grant ends sooner', () => {
    it('offers only earlier ends; moves the Grant row, its exp and its terms; refuses later ends and other people\'s grants', async () => {
      const user = await createTestUser(server);
      const other = await createTestUser(server);
      const { as, tokens, ua } = await runCodeFlow(server, plain, { username: user.username, password: user.password });
      const theirs = await runCodeFlow(server, plain, { username: other.username, password: other.password });
      const grantId = tokens.grant_id as string;
      const theirGrant = theirs.tokens.grant_id as string;
      const originally = (await grantRow(grantId))!.expires_at!;
      assert.ok(originally.getTime() > Date.now() + 80 * DAY, 'ongoing for the longest time offered (90 days)');

      const shown = await page(ua);
      assert.match(shown, /Ongoing access/);
      const offered = [...shown.matchAll(/<option value="(\d+)">/g)].map((m) => Number(m[1]));
      assert.deepEqual(offered, [30, 7, 1], 'only ends earlier than the current one');
      assert.match(shown, /aria-label="Change when the access of Test client [^"]+ ends"/);
      const post = (days: string, id = grantId) => ua.post(`${server.issuer}/account/consents/shorten`, { csrf: csrfOf(shown), id, days });

      const later = await post('365');
      assert.equal(later.status, 409);
      assert.match(await later.text(), /can only be brought forward/);
      assert.equal((await post('45')).status, 400, 'only the ends offered');
      assert.equal((await post('1', theirGrant)).status, 404, 'not someone else\'s grant');
      assert.ok((await grantRow(theirGrant))!.expires_at!.getTime() > Date.now() + 80 * DAY, 'their grant is untouched');
      assert.equal((await grantRow(grantId))!.expires_at!.getTime(), originally.getTime(), 'refusals change nothing');

      const started = Date.now();
      const done = await post('7');
      assert.equal(done.headers.get('location'), '/account/consents?done=grant-shortened');
      const row = (await grantRow(grantId))!;
      const until = row.expires_at!.getTime();
      assert.ok(until >= started + 7 * DAY - 1000 && until <= Date.now() + 7 * DAY, 'the Grant row ends in 7 days');
      assert.equal((row.payload as { exp: number }).exp, Math.floor(until / 1000), 'and so does the exp oidc-provider reads');
      assert.equal((await termsRow(grantId)).expires_at!.getTime(), until, 'and the consent terms');
      assert.equal((await post('30')).status, 409, 'not back to a later end');

      const [record] = await ledger().forSubject(user.id, 1);
      assert.equal(record!.action, 'replace');
      assert.equal(record!.decision, 'approved');
      assert.equal(record!.channel, 'web');
      assert.deepEqual(record!.granted, record!.requested);
      assert.deepEqual(record!.granted.scopes.sort(), ['email', 'offline_access', 'openid', 'profile']);
      assert.equal(record!.context.expiresAt, new Date(until).toISOString());
      assert.equal(record!.context.previousExpiresAt, originally.toISOString());

      const after = await page(ua, '/account/consents?done=grant-shortened');
      assert.match(after, /The end date was brought forward/);
      assert.match(after, new RegExp(`datetime="${new Date(until).toISOString()}"`), 'the new end is shown');
      assert.match(after, /end date brought forward to/, 'the history says so');
      assert.deepEqual([...after.matchAll(/<option value="(\d+)">/g)].map((m) => Number(m[1])), [1]);

      // The grant still works until then: the refresh token is accepted.
      const DPoP = oauth.DPoP(plain.client, plain.dpopKeys!);
      const refreshed = await withNonceRetry(async () => oauth.processRefreshTokenResponse(as, plain.client,
        await oauth.refreshTokenGrantRequest(as, plain.client, plain.clientAuth, tokens.refresh_token!, { ...plain.options, DPoP })));
      assert.ok(refreshed.access_token);

      // Two changes at once: the earlier end wins, whatever the order.
      const grants = createGrants(db());
      const [a, b] = await Promise.all([
        grants.shortenExpiry(user.id, grantId, new Date(Date.now() + 3 * DAY)), grants.shortenExpiry(user.id, grantId, new Date(Date.now() + 2 * DAY)),
      ]);
      assert.ok(typeof a === 'object' || typeof b === 'object');
      const settled = (await grantRow(grantId))!;
      assert.ok(settled.expires_at!.getTime() <= Date.now() + 2 * DAY);
      assert.equal((settled.payload as { exp: number }).exp, Math.floor(settled.expires_at!.getTime() / 1000));
      assert.equal((await termsRow(grantId)).expires_at!.getTime(), settled.expires_at!.getTime());
      assert.equal(await grants.shortenExpiry(user.id, grantId, new Date(Date.now() + 5 * DAY)), 'not-earlier');
      assert.equal(await grants.shortenExpiry(other.id, grantId, new Date(Date.now() + DAY)), 'not-found', 'only the owner');
      assert.equal(await grants.shortenExpiry(user.id, grantId, new Date(Date.now() - DAY)), 'not-found', 'not into the past');
      assert.equal((await ledger().verify()).ok, true);
    });
  });

  describe('My consents: ended consents stay visible', () => {
    it('withdrawn by the person or by the service, used once, expired: listed with how and when, without buttons', async () => {
      const transfers = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', metadata: { authorization_details_types: ['domestic_transfer'] } });
      const user = await createTestUser(server);
      await createLinkedResources(db()).add({ accountId: user.id, kind: 'bank_account', ref: '0001-001-1234567', label: '普通 ****4567 (Main)' });

      // Withdrawn by the person.
      const first = await runCodeFlow(server, plain, { username: user.username, password: user.password });
      const ua = first.ua;
      const shown = await page(ua);
      const revoked = await ua.post(`${server.issuer}/account/consents/revoke`, { csrf: csrfOf(shown), id: first.tokens.grant_id as string });
      assert.equal(revoked.status, 303);
      const afterRevoke = await page(ua);
      assert.match(afterRevoke, /No service can reach your data/);
      const ended = (body: string) => /<ul class="grants ended" id="ended-grants">([\s\S]*?)<\/ul>\n<\/section>/.exec(body)?.[1] ?? '';
      assert.match(ended(afterRevoke), /Withdrawn by you/);
      assert.match(ended(afterRevoke), /See your e-mail address/);
      assert.doesNotMatch(ended(afterRevoke), /<button|<form/, 'nothing to press on an ended consent');

      // A one-time transfer, used: its token was issued.
      const as = await discover(server, transfers);
      const par = await pushAuthorizationRequest(as, transfers, { scope: 'openid', resource: BANK, authorization_details: JSON.stringify([TRANSFER]) });
      const { callback } = await ua.authorize(par.authorizationUrl, { username: user.username, password: user.password });
      const paid = await redeemCallback(as, transfers, par, callback!);
      assert.equal((await termsRow(paid.grant_id as string)).status, 'used');
      const afterPayment = await page(ua);
      assert.match(ended(afterPayment), /Used \(one time\)/);
      assert.match(ended(afterPayment), /Transfer/i);
      assert.doesNotMatch(/<ul class="grants" id="grants">[\s\S]*?<\/ul>\n<p class="muted">/.exec(afterPayment)?.[0] ?? '', new RegExp(transfers.clientId), 'not among the services that can reach the data');

      // Withdrawn by the service (Grant Management API), and one that expired.
      const second = await runCodeFlow(server, plain, { username: user.username, password: user.password }, {}, ua);
      assert.ok(await createGrants(db()).revokeForClient(plain.clientId, second.tokens.grant_id as string));
      const third = await runCodeFlow(server, plain, { username: user.username, password: user.password }, { scope: 'openid phone offline_access' }, ua);
      const expiredId = third.tokens.grant_id as string;
      const past = new Date(Date.now() - 60_000);
      await db().updateTable('oidc_models').set({ expires_at: past }).where('model', '=', 'Grant').where('id', '=', expiredId).execute();
      await db().updateTable('consent_grants').set({ expires_at: past }).where('id', '=', expiredId).execute();

      const all = ended(await page(ua));
      assert.match(all, /Withdrawn by the service/);
      assert.match(all, /Expired/);
      assert.match(all, /See your phone number/);
      const items = all.split('<li>').length - 1;
      assert.equal(items, 4, 'withdrawn, used, withdrawn by the service, expired');

      const ja = await page(ua, '/account/consents?lang=ja');
      assert.match(ja, /終了した同意/);
      assert.match(ja, /お客さまが取り消し/);
      assert.match(ja, /使用済み（1回限り）/);
      const expiredRows = await db().selectFrom('consent_grants').select('id').where('account_id', '=', user.id)
        .where(sql<boolean>`expires_at < now()`).execute();
      assert.ok(expiredRows.some((r) => r.id === expiredId));
    });
  });
});
