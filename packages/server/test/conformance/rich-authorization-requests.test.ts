/**
 * Rich Authorization Requests (RFC 9396) with Sekisho's three types, through a real client
 * (oauth4webapi): the person picks accounts or a patient record on the consent screen, the
 * grant is enriched with that choice, and the token response, refreshes, JWT access tokens and
 * introspection carry exactly what was granted. A transfer is one use only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient, type TestClient } from '../support/clients.ts';
import { discover, parErrorCode, pushAuthorizationRequest, redeemCallback, withNonceRetry } from '../support/flow.ts';
import { createUserAgent } from '../support/user-agent.ts';
import { consentForm } from '../support/consent-form.ts';
import { createTestUser, type TestUser } from '../support/users.ts';
import { createLinkedResources } from '../../src/identity/linked-resources.ts';
import { createConsentLedger } from '../../src/consent/ledger.ts';

const BANK = 'https://bank.example/api';
const FHIR = 'https://records.example/fhir';

let server: TestServer;
let tc: TestClient;
let user: TestUser;
let accounts: { main: string; savings: string; patient: string };
before(async () => {
  server = await startTestServer({
    config: {
      resourceServers: [
        { identifier: BANK, scopes: ['accounts'], accessTokenFormat: 'opaque' },
        { identifier: FHIR, scopes: ['records'], accessTokenFormat: 'jwt' },
      ],
    },
  });
  // A client may use only the types registered for it (RFC 9396 §10, authorization_details_types).
  tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', metadata: { authorization_details_types: ['account_information', 'domestic_transfer', 'fhir_record_access'] } });
  user = await createTestUser(server);
  const linked = createLinkedResources(server.app.storage.db);
  const main = await linked.add({ accountId: user.id, kind: 'bank_account', ref: '0001-001-1234567', label: '普通 ****4567 (Main)' });
  const savings = await linked.add({ accountId: user.id, kind: 'bank_account', ref: '0001-001-7654321', label: '貯蓄 ****4321 (Savings)' });
  const patient = await linked.add({ accountId: user.id, kind: 'fhir_patient', ref: 'Patient/123', label: '山田 太郎 (1980-04-01)' });
  accounts = { main: main.id, savings: savings.id, patient: patient.id };
});
after(() => server.close());

const ACCOUNT_INFO = [{ type: 'account_information', actions: ['list_accounts', 'read_balances', 'read_transactions'], transaction_history_days: 90 }];
const TRANSFER = [{
  type: 'domestic_transfer', instructed_amount: { currency: 'JPY', amount: '12000' }, creditor_name: '株式会社 関所商店',
  creditor_account: { bank_code: '0005', branch_code: '123', account_type: 'ordinary', account_number: '7654321' }, requested_execution_date: '2026-12-01',
}];
const FHIR_ACCESS = [{ type: 'fhir_record_access', resource_types: ['Patient', 'MedicationRequest', 'AllergyIntolerance'], actions: ['read', 'search'] }];

async function request(details: unknown[], resource: string, scope = 'openid offline_access') {
  const as = await discover(server, tc);
  const par = await pushAuthorizationRequest(as, tc, { scope, resource, authorization_details: JSON.stringify(details) });
  return { as, par };
}

const parError = async (details: unknown, resource = BANK) => parErrorCode(await discover(server, tc), tc,
  { scope: 'openid', resource, authorization_details: typeof details === 'string' ? details : JSON.stringify(details) });

describe('RAR: account information, with the accounts the person picks', () => {
  it('the tokens, refreshes, introspection and the ledger carry only the account chosen', async () => {
    const { as, par } = await request(ACCOUNT_INFO, BANK);
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const login = await ua.authorize(par.authorizationUrl, { username: user.username, password: user.password, answers: { choices: { 'ad.0.accounts': ['Savings'] } } });
    const tokens = await redeemCallback(as, tc, par, login.callback!);
    const details = tokens.authorization_details as Array<{ type: string; accounts: Array<{ id: string; label: string }> }>;
    assert.equal(details.length, 1);
    assert.deepEqual(details[0]!.accounts, [{ id: accounts.savings, label: '貯蓄 ****4321 (Savings)', ref: '0001-001-7654321' }], 'enriched with the choice (and the holder\'s own ref for the API), nothing else');
    assert.ok(tokens.refresh_token, 'account access may be ongoing');

    // A refresh carries the same granted details.
    const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
    const refreshed = await withNonceRetry(async () => oauth.processRefreshTokenResponse(as, tc.client,
      await oauth.refreshTokenGrantRequest(as, tc.client, tc.clientAuth, tokens.refresh_token!, { ...tc.options, DPoP })));
    assert.deepEqual(refreshed.authorization_details, details);

    // Introspection (by the token's own client) returns them too.
    const introspected = await oauth.processIntrospectionResponse(as, tc.client,
      await oauth.introspectionRequest(as, tc.client, tc.clientAuth, refreshed.access_token, tc.options));
    assert.equal(introspected.active, true);
    assert.deepEqual(introspected.authorization_details, details);

    const [record] = await createConsentLedger(server.app.storage.db, { retentionDays: 1 }).forSubject(user.id, 1);
    assert.deepEqual(record!.granted.authorizationDetails, details, 'the ledger records the enriched form');
    assert.deepEqual(record!.requested.authorizationDetails, ACCOUNT_INFO);
  });

  it('the screen lists the accounts unticked and says what is read', async () => {
    const fresh = createUserAgent(server.dispatcher(), server.issuer);
    const par2 = (await request(ACCOUNT_INFO, BANK)).par;
    const signIn = await fresh.follow(par2.authorizationUrl);
    const uid = /\/interaction\/([^/?"]+)/.exec(signIn.page!.url)![1]!;
    const login = await fresh.post(`${server.issuer}/interaction/${uid}/login`, { csrf: /name="csrf" value="([^"]+)"/.exec(signIn.page!.body)![1]!, username: user.username, password: user.password });
    const consent = await fresh.follow(new URL(login.headers.get('location')!, server.issuer).toString());
    const body = consent.page!.body;
    assert.match(body, /See your account information/);
    assert.match(body, /Balances/);
    assert.match(body, /the last 90 days/);
    assert.match(body, /普通 \*\*\*\*4567 \(Main\)/);
    assert.doesNotMatch(body, /0001-001-1234567/, 'the account number is not on the page, only its label');
    assert.doesNotMatch(body, /checked/, 'nothing pre-ticked');

    // A tampered form (an id that was not offered) grants nothing: the screen comes back.
    const consentUid = /\/interaction\/([^/?"]+)/.exec(consent.page!.url)![1]!;
    const form = consentForm(body).filter(([k]) => !k.startsWith('ad.'));
    const forged = await fresh.post(`${server.issuer}/interaction/${consentUid}/confirm`, [...form, ['ad.0.accounts', 'not-an-offered-id']]);
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), /Make a choice for each item/);
    const none = await fresh.post(`${server.issuer}/interaction/${consentUid}/confirm`, form);
    assert.equal(none.status, 400, 'choosing no account is not consent to all of them');
  });
});

describe('RAR: a domestic transfer is one use only', () => {
  it('issues an access token only, and the grant is used up', async () => {
    const { as, par } = await request(TRANSFER, BANK);
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const { callback } = await ua.authorize(par.authorizationUrl, { username: user.username, password: user.password });
    const tokens = await redeemCallback(as, tc, par, callback!);
    assert.equal(tokens.refresh_token, undefined, 'no refresh token for a one-time consent');
    const [detail] = tokens.authorization_details as Array<Record<string, unknown>>;
    assert.deepEqual(detail!.debtor_account, { id: accounts.main, label: '普通 ****4567 (Main)', ref: '0001-001-1234567' });
    assert.deepEqual(detail!.instructed_amount, { currency: 'JPY', amount: '12000' });
    const terms = await server.app.storage.db.selectFrom('consent_grants').selectAll().where('id', '=', tokens.grant_id as string).executeTakeFirstOrThrow();
    assert.equal(terms.duration, 'once');
    assert.equal(terms.status, 'used');
    assert.ok(terms.used_at);

    // The same browser asking again is asked again: a one-time grant is never reused.
    const again = await request(TRANSFER, BANK);
    const next = await ua.authorize(again.par.authorizationUrl, { stopAtFirstPage: true });
    assert.match(next.page!.body, /one use only/);
  });
});

describe('RAR: FHIR record access for the patient the person picks', () => {
  it('the JWT access token names the record types and the patient', async () => {
    const { as, par } = await request(FHIR_ACCESS, FHIR, 'openid');
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const { callback } = await ua.authorize(par.authorizationUrl, { username: user.username, password: user.password, answers: { duration: 'once' } });
    const tokens = await redeemCallback(as, tc, par, callback!);
    const claims = decodeJwt(tokens.access_token) as { aud?: unknown; authorization_details?: Array<Record<string, unknown>> };
    assert.equal(claims.aud, FHIR);
    assert.deepEqual(claims.authorization_details?.[0]?.patient, { id: accounts.patient, label: '山田 太郎 (1980-04-01)', ref: 'Patient/123' });
    assert.deepEqual(claims.authorization_details?.[0]?.resource_types, ['Patient', 'MedicationRequest', 'AllergyIntolerance']);
  });
});

describe('RAR: bad authorization details are invalid_authorization_details, before anyone is asked', () => {
  it('unknown type, malformed members, client-chosen accounts, not JSON', async () => {
    assert.equal(await parError([{ type: 'wire_everything' }]), 'invalid_authorization_details');
    assert.equal(await parError([{ type: 'domestic_transfer', ...TRANSFER[0], creditor_account: { ...TRANSFER[0]!.creditor_account, bank_code: '05' } }]), 'invalid_authorization_details');
    assert.equal(await parError([{ ...ACCOUNT_INFO[0], accounts: [{ id: 'x' }] }]), 'invalid_authorization_details');
    assert.equal(await parError([{ ...ACCOUNT_INFO[0], surprise: true }]), 'invalid_authorization_details');
    assert.equal(await parError('{not json'), 'invalid_authorization_details');
    assert.equal(await parError({ type: 'account_information' }), 'invalid_authorization_details');
    const unregistered = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
    const as = await discover(server, unregistered);
    await assert.rejects(pushAuthorizationRequest(as, unregistered, { scope: 'openid', resource: BANK, authorization_details: JSON.stringify(ACCOUNT_INFO) }),
      (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_authorization_details', 'a type not registered for the client');
  });
});

describe('RAR: a client cannot widen at the token endpoint what the person granted (security review F1, F2, F7)', () => {
  const DPoPFor = () => oauth.DPoP(tc.client, tc.dpopKeys!);

  it('details added when redeeming the code or refreshing are refused; granted ones may be asked again', async () => {
    const { as, par } = await request(ACCOUNT_INFO, BANK);
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const { callback } = await ua.authorize(par.authorizationUrl, { username: user.username, password: user.password });
    const params = oauth.validateAuthResponse(as, tc.client, new URL(callback!), par.state);
    // The client slips a transfer into the code redemption: refused, and the code is not spent on it.
    const injected = { resource: BANK, authorization_details: JSON.stringify(TRANSFER) };
    const res = await withNonceRetry(async () => oauth.authorizationCodeGrantRequest(as, tc.client, tc.clientAuth, params, tc.redirectUri, par.verifier,
      { ...tc.options, DPoP: DPoPFor(), additionalParameters: injected }));
    assert.equal(res.status, 400);
    assert.equal((await res.json() as { error: string }).error, 'invalid_authorization_details');

    // A fresh flow: refreshing with a detail it was not granted is refused; with the granted one it is fine.
    const fresh = await request(ACCOUNT_INFO, BANK);
    const cb = await ua.authorize(fresh.par.authorizationUrl, { username: user.username, password: user.password });
    const tokens = await redeemCallback(as, tc, fresh.par, cb.callback!);
    const refresh = (extra: Record<string, string>) => withNonceRetry(async () => oauth.refreshTokenGrantRequest(as, tc.client, tc.clientAuth, tokens.refresh_token!, { ...tc.options, DPoP: DPoPFor(), additionalParameters: extra }));
    const widened = await refresh({ resource: BANK, authorization_details: JSON.stringify(TRANSFER) });
    assert.equal(widened.status, 400);
    assert.equal((await widened.json() as { error: string }).error, 'invalid_authorization_details');
    // Asking again for the granted (enriched) details, copied from the token response, is fine.
    const same = await refresh({ resource: BANK, authorization_details: JSON.stringify(tokens.authorization_details) });
    assert.equal(same.status, 200, await same.clone().text());
    // A detail nested too deeply to compare is refused as not granted, not a server error.
    const deep = await refresh({ resource: BANK, authorization_details: `[{"type":"account_information","x":${'['.repeat(15_000)}${']'.repeat(15_000)}}]` });
    assert.equal(deep.status, 400, await deep.clone().text());
    // Without the parameter the refresh carries exactly what was granted.
    const plain = await refresh({});
    assert.equal(plain.status, 200);
    assert.deepEqual((await plain.json() as { authorization_details: unknown }).authorization_details, tokens.authorization_details);
  });

  it('client credentials carry no authorization details (nobody consented)', async () => {
    const cc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', grantTypes: ['client_credentials'], metadata: { authorization_details_types: ['domestic_transfer'] } });
    const as = await discover(server, cc);
    const res = await withNonceRetry(async () => oauth.clientCredentialsGrantRequest(as, cc.client, cc.clientAuth,
      { resource: BANK, authorization_details: JSON.stringify(TRANSFER) }, { ...cc.options, DPoP: oauth.DPoP(cc.client, cc.dpopKeys!) }));
    assert.equal(res.status, 400);
    assert.equal((await res.json() as { error: string }).error, 'invalid_authorization_details');
  });

  it('a payment cannot be merged or replaced into an ongoing grant', async () => {
    const { as, par } = await request(ACCOUNT_INFO, BANK);
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const tokens = await redeemCallback(as, tc, par, (await ua.authorize(par.authorizationUrl, { username: user.username, password: user.password })).callback!);
    for (const action of ['merge', 'replace']) {
      await assert.rejects(pushAuthorizationRequest(as, tc, { scope: 'openid', resource: BANK, authorization_details: JSON.stringify(TRANSFER), grant_management_action: action, grant_id: tokens.grant_id as string }),
        (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_request', action);
    }
  });

  it('the transfer is shown in words on the screen, not as markup', async () => {
    const { par } = await request(TRANSFER, BANK);
    const fresh = createUserAgent(server.dispatcher(), server.issuer);
    const signIn = await fresh.follow(par.authorizationUrl);
    const uid = /\/interaction\/([^/?"]+)/.exec(signIn.page!.url)![1]!;
    const login = await fresh.post(`${server.issuer}/interaction/${uid}/login`, { csrf: /name="csrf" value="([^"]+)"/.exec(signIn.page!.body)![1]!, username: user.username, password: user.password });
    const body = (await fresh.follow(new URL(login.headers.get('location')!, server.issuer).toString())).page!.body;
    assert.doesNotMatch(body, /&lt;(dl|dt|dd|strong)/, 'the rendering is markup, not escaped text');
    assert.match(body, /12,000/);
    assert.match(body, /株式会社 関所商店/);
  });
});
