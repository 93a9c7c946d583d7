/**
 * Consent decisions on the consent page land in the ledger (approvals and denials), once each;
 * the person reads them on /account/consents and downloads receipts that verify against the
 * server's published keys.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { startTestServer, type TestServer } from './support/server.ts';
import { registerTestClient, type TestClient } from './support/clients.ts';
import { discover, pushAuthorizationRequest, runCodeFlow, withNonceRetry } from './support/flow.ts';
import * as oauth from 'oauth4webapi';
import { sql } from 'kysely';
import { consentForm } from './support/consent-form.ts';
import { createUserAgent, type UserAgent } from './support/user-agent.ts';
import { createTestUser, type TestUser } from './support/users.ts';
import { createConsentLedger } from '../src/consent/ledger.ts';
import { RECEIPT_TYPE } from '../src/consent/receipts.ts';

let server: TestServer;
let tc: TestClient;
before(async () => {
  server = await startTestServer();
  tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
});
after(() => server.close());

const ledger = () => createConsentLedger(server.app.storage.db, { retentionDays: 1096 });
const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)![1]!;

async function accountUa(user: TestUser): Promise<UserAgent> {
  const ua = createUserAgent(server.dispatcher(), server.issuer);
  const form = await (await ua.request(`${server.issuer}/account/sign-in`)).text();
  const res = await ua.post(`${server.issuer}/account/sign-in/login`, { csrf: csrfOf(form), username: user.username, password: user.password });
  assert.equal(res.status, 303);
  return ua;
}

/** Signs in on a new browser for a new authorization request and stops at its consent screen. */
async function consentScreen(user: TestUser) {
  const as = await discover(server, tc);
  const par = await pushAuthorizationRequest(as, tc);
  const ua = createUserAgent(server.dispatcher(), server.issuer);
  const signIn = await ua.follow(par.authorizationUrl);
  const loginUid = /\/interaction\/([^/?"]+)/.exec(signIn.page!.url)![1]!;
  const login = await ua.post(`${server.issuer}/interaction/${loginUid}/login`, { csrf: csrfOf(signIn.page!.body), username: user.username, password: user.password });
  const consent = await ua.follow(new URL(login.headers.get('location')!, server.issuer).toString());
  // The consent step is an interaction of its own.
  const uid = /\/interaction\/([^/?"]+)/.exec(consent.page!.url)![1]!;
  return { ua, uid, form: consentForm(consent.page!.body) };
}

describe('the consent ledger through the consent page', () => {
  it('records an approval with what was shown and granted; a denial too', async () => {
    const user = await createTestUser(server);
    await runCodeFlow(server, tc, { username: user.username, password: user.password });
    const as = await discover(server, tc);
    const par = await pushAuthorizationRequest(as, tc, { scope: 'openid phone' });
    const denied = await createUserAgent(server.dispatcher(), server.issuer).authorize(par.authorizationUrl, { username: user.username, password: user.password, consent: 'deny' });
    assert.match(denied.callback ?? '', /error=access_denied/);

    const [denial, approval] = await ledger().forSubject(user.id);
    assert.equal(approval!.decision, 'approved');
    assert.equal(approval!.action, 'create');
    assert.equal(approval!.clientId, tc.clientId);
    assert.ok(approval!.grantId, 'the grant it created');
    assert.deepEqual(approval!.granted.scopes.sort(), ['email', 'offline_access', 'openid', 'profile']);
    assert.match(approval!.shownHash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(approval!.context.ip !== undefined, true);
    assert.equal(denial!.decision, 'denied');
    assert.deepEqual(denial!.granted.scopes, [], 'nothing granted');
    assert.ok(denial!.requested.scopes.includes('phone'), 'what was refused is kept');
    assert.equal((await ledger().verify()).ok, true);
  });

  it('a consent form posted twice (or Allow then Deny) records one decision: the first', async () => {
    const user = await createTestUser(server);
    const { ua, uid, form } = await consentScreen(user);
    const first = await ua.post(`${server.issuer}/interaction/${uid}/confirm`, form);
    assert.equal(first.status, 303);
    const again = await ua.post(`${server.issuer}/interaction/${uid}/confirm`, form);
    assert.equal(again.headers.get('location'), first.headers.get('location'), 'on to the same place');
    const deny = await ua.post(`${server.issuer}/interaction/${uid}/abort`, form);
    assert.equal(deny.headers.get('location'), first.headers.get('location'), 'a late Deny does not turn the decision round');
    const records = await ledger().forSubject(user.id);
    assert.deepEqual(records.map((r) => r.decision), ['approved']);
    const grants = await server.app.storage.db.selectFrom('oidc_models').select('id').where('model', '=', 'Grant').execute();
    assert.ok(grants.some((g) => g.id === records[0]!.grantId), 'the recorded grant id is the grant saved');
    const { callback } = await ua.follow(new URL(first.headers.get('location')!, server.issuer).toString()).then((r) => ({ callback: r.redirect }));
    assert.match(callback ?? '', /[?&]code=/, 'the client gets its code: the approval stood');
  });

  it('the person sees the history and downloads receipts that verify with the published keys; nobody else can', async () => {
    const user = await createTestUser(server);
    const other = await createTestUser(server);
    await runCodeFlow(server, tc, { username: user.username, password: user.password });
    const [record] = await ledger().forSubject(user.id);
    const ua = await accountUa(user);
    const page = await (await ua.request(`${server.issuer}/account/consents`)).text();
    assert.match(page, /Consent history/);
    assert.match(page, /<td>Allowed<\/td>/);
    assert.match(page, new RegExp(`/account/consents/receipt\\?id=${record!.id}`));

    const download = await ua.request(`${server.issuer}/account/consents/receipt?id=${record!.id}`);
    assert.equal(download.status, 200);
    assert.match(download.headers.get('content-disposition') ?? '', /attachment/);
    const receipt = await download.text();
    const jwks = await (await fetch(`${server.issuer}/jwks`, { dispatcher: server.dispatcher() } as RequestInit)).json() as { keys: JWK[] };
    const { payload, protectedHeader } = await jwtVerify(receipt, createLocalJWKSet(jwks), { issuer: server.issuer, subject: user.id, typ: RECEIPT_TYPE });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.consentReceiptID, record!.id);
    const inReceipt = payload.record as { hash: string; prev_hash: string; decision: string };
    assert.equal(inReceipt.hash, record!.hash, 'the receipt names the record\'s place in the chain');
    assert.equal(inReceipt.decision, 'approved');

    const stranger = await accountUa(other);
    const refused = await stranger.request(`${server.issuer}/account/consents/receipt?id=${record!.id}`);
    assert.equal(refused.status, 404);
    assert.doesNotMatch(await (await stranger.request(`${server.issuer}/account/consents`)).text(), new RegExp(record!.id));
  });

  it('withdrawing a grant on /account/consents stops its tokens at once and is a ledger record', async () => {
    const user = await createTestUser(server);
    const other = await createTestUser(server);
    const { as, tokens } = await runCodeFlow(server, tc, { username: user.username, password: user.password });
    const theirs = await runCodeFlow(server, tc, { username: other.username, password: other.password });
    const ua = await accountUa(user);
    const page = await (await ua.request(`${server.issuer}/account/consents`)).text();
    assert.match(page, /Services that can reach your data/);
    assert.match(page, /Ongoing access/, 'offline_access is shown as ongoing');
    const grantId = /name="id" value="([^"]+)"/.exec(page)![1]!;
    const otherGrant = (await ledger().forSubject(other.id))[0]!.grantId!;

    const foreign = await ua.post(`${server.issuer}/account/consents/revoke`, { csrf: csrfOf(page), id: otherGrant });
    assert.equal(foreign.status, 404, 'someone else\'s grant is not found');
    const revoked = await ua.post(`${server.issuer}/account/consents/revoke`, { csrf: csrfOf(page), id: grantId });
    assert.equal(revoked.headers.get('location'), '/account/consents?done=consent-revoked');
    assert.equal((await ua.post(`${server.issuer}/account/consents/revoke`, { csrf: csrfOf(page), id: grantId })).status, 404, 'once');

    const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
    await assert.rejects(withNonceRetry(async () => oauth.processRefreshTokenResponse(as, tc.client,
      await oauth.refreshTokenGrantRequest(as, tc.client, tc.clientAuth, tokens.refresh_token!, { ...tc.options, DPoP }))),
    (err: Error & { cause?: { error?: string } }) => err.cause?.error === 'invalid_grant');
    const introspection = await oauth.processIntrospectionResponse(as, tc.client,
      await oauth.introspectionRequest(as, tc.client, tc.clientAuth, tokens.access_token, tc.options));
    assert.equal(introspection.active, false);
    const stillTheirs = await oauth.processIntrospectionResponse(as, tc.client,
      await oauth.introspectionRequest(as, tc.client, tc.clientAuth, theirs.tokens.access_token, tc.options));
    assert.equal(stillTheirs.active, true, 'the other person\'s access is untouched');

    const [withdrawal] = await ledger().forSubject(user.id);
    assert.equal(withdrawal!.action, 'revoke');
    assert.equal(withdrawal!.decision, 'revoked');
    assert.equal(withdrawal!.grantId, grantId);
    assert.ok(withdrawal!.requested.scopes.includes('offline_access'), 'what was withdrawn');
    const after = await (await ua.request(`${server.issuer}/account/consents?done=consent-revoked`)).text();
    assert.match(after, /No service can reach your data/);
    assert.match(after, /<td>Withdrawn<\/td>/);
    assert.equal((await ledger().verify()).ok, true);
  });

  it('withdrawing one part keeps the rest and ends the tokens; the last part cannot go alone', async () => {
    const user = await createTestUser(server);
    const { as, tokens } = await runCodeFlow(server, tc, { username: user.username, password: user.password });
    const ua = await accountUa(user);
    const page = await (await ua.request(`${server.issuer}/account/consents`)).text();
    const grantId = /name="id" value="([^"]+)"/.exec(page)![1]!;
    assert.match(page, /Withdraw “See your e-mail address” from/);
    const post = (part: string, id = grantId) => ua.post(`${server.issuer}/account/consents/withdraw-part`, { csrf: csrfOf(page), id, part });

    assert.equal((await post('scope:openid')).status, 404, 'signing in itself is not a part');
    assert.equal((await post('nonsense')).status, 404);
    const other = await createTestUser(server);
    await runCodeFlow(server, tc, { username: other.username, password: other.password });
    const theirGrant = (await ledger().forSubject(other.id))[0]!.grantId!;
    assert.equal((await post('scope:email', theirGrant)).status, 404, 'not someone else\'s');

    const done = await post('scope:email');
    assert.equal(done.headers.get('location'), '/account/consents?done=part-withdrawn');
    const [record] = await ledger().forSubject(user.id);
    assert.equal(record!.action, 'revoke');
    assert.deepEqual(record!.requested.scopes, ['email']);
    assert.deepEqual(record!.granted.scopes.sort(), ['offline_access', 'openid', 'profile'], 'what remains');

    const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
    await assert.rejects(withNonceRetry(async () => oauth.processRefreshTokenResponse(as, tc.client,
      await oauth.refreshTokenGrantRequest(as, tc.client, tc.clientAuth, tokens.refresh_token!, { ...tc.options, DPoP }))),
    (err: Error & { cause?: { error?: string } }) => err.cause?.error === 'invalid_grant', 'tokens issued with the part end');

    const after = await (await ua.request(`${server.issuer}/account/consents`)).text();
    assert.doesNotMatch(after, /Withdraw “See your e-mail address”/, 'gone from the grant');
    assert.match(after, /Withdraw “See your name and basic profile”/, 'the rest stays');

    // Down to the last part of their data (ongoing access alone is no data), the person is told to withdraw the whole access.
    const last = await post('scope:profile');
    assert.equal(last.status, 409);
    assert.match(await last.text(), /Withdraw its whole access instead/);
    assert.equal((await ledger().verify()).ok, true);
  });

  it('Allow and Deny posted at the same moment: one decision recorded, one grant at most', async () => {
    const user = await createTestUser(server);
    const { ua, uid, form } = await consentScreen(user);
    const posts = await Promise.all([
      ua.post(`${server.issuer}/interaction/${uid}/confirm`, form), ua.post(`${server.issuer}/interaction/${uid}/confirm`, form),
      ua.post(`${server.issuer}/interaction/${uid}/abort`, form),
    ]);
    for (const p of posts) { await p.text(); assert.equal(p.status, 303); }
    const records = await ledger().forSubject(user.id);
    assert.equal(records.length, 1, JSON.stringify(records.map((r) => r.decision)));
    const grants = await server.app.storage.db.selectFrom('oidc_models').select('id').where('model', '=', 'Grant')
      .where(sql<string>`payload->>'accountId'`, '=', user.id).execute();
    assert.equal(grants.length, records[0]!.decision === 'approved' ? 1 : 0);
  });
});
