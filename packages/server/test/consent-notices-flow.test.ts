/**
 * A client's notice on the consent screen and in the ledger: the version shown is recorded, a new
 * version asks the person again (even where the grant would otherwise be reused silently), and
 * items the notice marks optional are separate, unticked choices whose refusal the tokens honour.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestServer, type TestServer } from './support/server.ts';
import { registerTestClient, type TestClient } from './support/clients.ts';
import { discover, pushAuthorizationRequest, redeemCallback, runCodeFlow, withNonceRetry } from './support/flow.ts';
import { consentForm } from './support/consent-form.ts';
import * as oauth from 'oauth4webapi';
import { createUserAgent } from './support/user-agent.ts';
import { createTestUser, type TestUser } from './support/users.ts';
import { createConsentLedger } from '../src/consent/ledger.ts';
import { createConsentNotices, type NoticeContent } from '../src/consent/notices.ts';

const DOC = readFileSync(new URL('../../../docs/consent-notices.md', import.meta.url), 'utf8');
const EXAMPLE = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(DOC)![1]!) as NoticeContent;
const NOTICE: NoticeContent = {
  ...EXAMPLE,
  data: [
    { item: 'scope:openid', purposes: [EXAMPLE.purposes[0]!.id], optional: false },
    { item: 'scope:profile', purposes: [EXAMPLE.purposes[0]!.id], optional: false },
    { item: 'scope:email', purposes: [EXAMPLE.purposes[0]!.id], optional: true },
  ],
};

let server: TestServer;
let tc: TestClient;
let user: TestUser;
before(async () => {
  // No caching of the current notice version: the test publishes and asks at once.
  server = await startTestServer({ config: { clientCacheSeconds: 0 } });
  tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
  user = await createTestUser(server);
});
after(() => server.close());

const notices = () => createConsentNotices(server.app.storage.db, { cacheSeconds: 0 });
const ledger = () => createConsentLedger(server.app.storage.db, { retentionDays: 1 });
const signIn = () => ({ username: user.username, password: user.password });

describe('consent notices', () => {
  it('optional items are unticked choices; declining one is a partial consent the tokens honour', async () => {
    await notices().publish(tc.clientId, NOTICE);
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const as = await discover(server, tc);
    const par = await pushAuthorizationRequest(as, tc, { scope: 'openid profile email' });
    const shown = await ua.authorize(par.authorizationUrl, { ...signIn(), answers: { items: 'none', duration: 'ongoing' } });
    const tokens = await redeemCallback(as, tc, par, shown.callback!);
    assert.deepEqual(String(tokens.scope).split(' ').sort(), ['openid', 'profile'], 'the declined optional item is not in the token');
    const [record] = await ledger().forSubject(user.id, 1);
    assert.equal(record!.decision, 'partial');
    assert.equal(record!.noticeVersion, `${tc.clientId}@1`);
    assert.ok(record!.requested.scopes.includes('email'), 'what was asked is recorded');
    assert.ok(!record!.granted.scopes.includes('email'));
    // The person's history links each decision to the notice version it was made under.
    const history = await (await ua.request(`${server.issuer}/account/consents`)).text();
    assert.match(history, new RegExp(`href="/notices/${tc.clientId}/1"`));
    // The service is named as the consent screen named it (the notice), not by its client_name.
    for (const lang of ['ja', 'en'] as const) {
      const page = await (await ua.request(`${server.issuer}/account/consents?lang=${lang}`)).text();
      assert.ok(page.includes(NOTICE.serviceName[lang]), `My consents names the service by its notice (${lang})`);
      assert.ok(!page.includes(`Test client ${tc.clientId}`), 'not by the registered client_name');
    }
  });

  it('the screen names the client, its purposes, recipients, retention and the notice version', async () => {
    const fresh = createUserAgent(server.dispatcher(), server.issuer);
    const par2 = await pushAuthorizationRequest(await discover(server, tc), tc, { scope: 'openid profile email' });
    const first = await fresh.follow(par2.authorizationUrl);
    const uid = /\/interaction\/([^/?"]+)/.exec(first.page!.url)![1]!;
    const login = await fresh.post(`${server.issuer}/interaction/${uid}/login`, { csrf: /name="csrf" value="([^"]+)"/.exec(first.page!.body)![1]!, ...signIn() });
    const body = (await fresh.follow(new URL(login.headers.get('location')!, server.issuer).toString())).page!.body;
    assert.ok(body.includes(NOTICE.legalName.en), 'the legal name');
    if (NOTICE.registrationNumber) assert.ok(body.includes(NOTICE.registrationNumber), 'the registration number');
    assert.ok(body.includes(NOTICE.purposes[0]!.text.en), 'the purpose');
    assert.ok(body.includes(NOTICE.retention.en) || !NOTICE.keepsData, 'the retention');
    assert.match(body, new RegExp(`href="/notices/${tc.clientId}/1"`), 'a link to the exact version shown');
    assert.match(body, /href="\/account\/consents"/, 'how to withdraw');
    assert.match(body, /type="checkbox" name="item" value="scope:email"/, 'the optional item is a choice');
    assert.doesNotMatch(body, /value="scope:profile"/, 'a required, non-sensitive item is not');
    assert.doesNotMatch(body, /checked/, 'nothing pre-ticked');
  });

  it('a new notice version asks again, where the grant was reused silently before', async () => {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    await runCodeFlow(server, tc, signIn(), { scope: 'openid profile' }, ua);
    // Same browser, same request, no prompt: single sign-on finishes without a page.
    const silent = await pushAuthorizationRequest(await discover(server, tc), tc, { scope: 'openid profile', prompt: '' });
    assert.ok((await ua.authorize(silent.authorizationUrl, { stopAtFirstPage: true })).callback, 'no consent screen while the notice is the same');

    const published = await notices().publish(tc.clientId, { ...NOTICE, retention: { ja: '解約後1年間', en: 'One year after you close your account' } });
    assert.equal(published.version, 2);
    const again = await pushAuthorizationRequest(await discover(server, tc), tc, { scope: 'openid profile', prompt: '' });
    const screen = await ua.authorize(again.authorizationUrl, { stopAtFirstPage: true });
    assert.ok(screen.page, 'the consent screen is shown again');
    assert.match(screen.page!.body, /changed its notice \(now version 2\)/);
    assert.match(screen.page!.body, /Already allowed, and kept:/);
    const done = await ua.authorize(again.authorizationUrl, {});
    assert.ok(done.callback);
    const [record] = await ledger().forSubject(user.id, 1);
    assert.equal(record!.noticeVersion, `${tc.clientId}@2`);
    assert.equal(record!.context.reconsent, true);
    const third = await pushAuthorizationRequest(await discover(server, tc), tc, { scope: 'openid profile', prompt: '' });
    assert.ok((await ua.authorize(third.authorizationUrl, { stopAtFirstPage: true })).callback, 'asked once per version');
  });
});

describe('consent notices: a new version reaches refresh tokens and the screen in use (security review F5, F6)', () => {
  before(async () => { if (!(await notices().current(tc.clientId))) await notices().publish(tc.clientId, NOTICE); });
  it('refresh tokens stop at a new version; declining it ends the grant', async () => {
    const other = await createTestUser(server);
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const flow = await runCodeFlow(server, tc, { username: other.username, password: other.password }, { scope: 'openid profile offline_access' }, ua);
    const grantId = flow.tokens.grant_id as string;
    const current = (await notices().current(tc.clientId))!;
    await notices().publish(tc.clientId, { ...current.content, retention: { ja: `${current.version + 1}年間`, en: `${current.version + 1} years` } });
    const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
    await assert.rejects(withNonceRetry(async () => oauth.processRefreshTokenResponse(flow.as, tc.client,
      await oauth.refreshTokenGrantRequest(flow.as, tc.client, tc.clientAuth, flow.tokens.refresh_token!, { ...tc.options, DPoP }))),
    (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant', 'no refresh under the old notice');

    const par = await pushAuthorizationRequest(flow.as, tc, { scope: 'openid profile', prompt: '' });
    const denied = await ua.authorize(par.authorizationUrl, { consent: 'deny' });
    assert.match(denied.callback ?? '', /error=access_denied/, `${denied.page?.status} ${denied.page?.body.slice(denied.page.body.indexOf('<main'), denied.page.body.indexOf('<main') + 400)}`);
    const row = await server.app.storage.db.selectFrom('oidc_models').select('id').where('model', '=', 'Grant').where('id', '=', grantId).executeTakeFirst();
    assert.equal(row, undefined, 'declining the new notice ends the grant');
    const [revocation, denial] = await ledger().forSubject(other.id, 2);
    assert.equal(denial!.decision, 'denied');
    assert.equal(revocation!.action, 'revoke');
    assert.equal(revocation!.grantId, grantId);
  });

  it('a notice published while the screen is open: the decision is not taken, the new screen is shown', async () => {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const as = await discover(server, tc);
    const par = await pushAuthorizationRequest(as, tc, { scope: 'openid profile email' });
    const first = await ua.follow(par.authorizationUrl);
    const uid = /\/interaction\/([^/?"]+)/.exec(first.page!.url)![1]!;
    const login = await ua.post(`${server.issuer}/interaction/${uid}/login`, { csrf: /name="csrf" value="([^"]+)"/.exec(first.page!.body)![1]!, ...signIn() });
    const screen = (await ua.follow(new URL(login.headers.get('location')!, server.issuer).toString())).page!;
    const consentUid = /\/interaction\/([^/?"]+)/.exec(screen.url)![1]!;
    const before = (await ledger().forSubject(user.id, 1))[0]?.id;
    const current = (await notices().current(tc.clientId))!;
    await notices().publish(tc.clientId, { ...current.content, retention: { ja: '変更後', en: 'Changed meanwhile' } });
    const stale = await ua.post(`${server.issuer}/interaction/${consentUid}/confirm`, consentForm(screen.body));
    assert.equal(stale.status, 400);
    const page = await stale.text();
    assert.match(page, /Changed meanwhile/, 'the screen now shows the new notice');
    assert.equal((await ledger().forSubject(user.id, 1))[0]?.id, before, 'nothing recorded for the old screen');
  });
});
