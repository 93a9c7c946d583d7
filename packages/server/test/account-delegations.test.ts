/**
 * The delegations page over HTTP: who may act for the person and for whom they act, in Japanese
 * and English; a delegate steps down; a principal ends a proxy they chose but not a parent's
 * authority; no one ends someone else's delegation; a form without its CSRF token is refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/server.ts';
import type { UserAgent } from './support/user-agent.ts';
import { createTestUser, type TestUser } from './support/users.ts';
import { accountPage, signInToAccount } from './support/account-session.ts';
import { createDelegations, type Delegation, type DelegationInput } from '../src/consent/delegations.ts';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.close());

const url = (path: string) => `${server.issuer}${path}`;
const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)![1]!;
const delegations = () => createDelegations(server.app.storage.db);
const HOUR = 3_600_000;

const signIn = (user: TestUser) => signInToAccount(server, user);
const page = (ua: UserAgent, path = '/account/delegations') => accountPage(server, ua, path);
async function end(ua: UserAgent, id: string, csrf?: string) {
  const form: Record<string, string> = { id };
  if (csrf !== undefined) form.csrf = csrf;
  const res = await ua.post(url('/account/delegations/end'), form);
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}
const register = (principal: TestUser, delegate: TestUser, more: Partial<DelegationInput> = {}) => delegations().register({
  principal: principal.id, delegate: delegate.id, relationship: 'appointed_proxy', evidence: 'POA-2026-0042', verifiedBy: 'Suzuki (branch 001)',
  verifiedAt: new Date(Date.now() - HOUR), constraints: { scopes: ['openid', 'profile'] }, validFrom: new Date(Date.now() - HOUR), ...more,
});
const statusOf = async (d: Delegation) => (await delegations().find(d.id))!.status;
const auditEvents = async (id: string) => {
  await server.app.audit.flush();
  return (await server.app.audit.query({ type: 'delegation.ended' })).filter((e) => e.details?.id === id);
};

describe('the delegations page', () => {
  let me: TestUser;
  let mother: TestUser;
  let child: TestUser;
  let proxy: Delegation;
  let parental: Delegation;
  before(async () => {
    me = await createTestUser(server, { name: '山田 花子' });
    mother = await createTestUser(server, { name: '山田 和子' });
    child = await createTestUser(server, { name: '山田 さくら' });
    proxy = await register(me, mother, {
      validUntil: new Date(Date.now() + 365 * 24 * HOUR), constraints: { scopes: ['openid', 'profile', 'email'], authorizationDetailTypes: ['fhir_record_access'], excludeSensitive: true },
    });
    parental = await register(child, me, { relationship: 'parent', evidence: 'KOSEKI-00123', constraints: {} });
  });

  it('lists both sides in English and in Japanese, with relationship, limits, evidence, validity and status', async () => {
    const ua = await signIn(me);
    const en = await page(ua, '/account/delegations?lang=en');
    assert.equal(en.status, 200);
    assert.match(en.body, /<a href="\/account\/delegations" aria-current="page">Acting for others<\/a>/);
    const forMe = en.body.slice(en.body.indexOf('id="acting-for-me"'), en.body.indexOf('id="i-act-h"'));
    assert.match(forMe, /<h3>山田 和子<\/h3><span class="badge">Appointed proxy<\/span><span class="badge">Active<\/span>/);
    assert.match(forMe, /See your name and basic profile, See your e-mail address, See your health records\./);
    assert.match(forMe, /Never sensitive information/);
    assert.match(forMe, /POA-2026-0042 \(checked by Suzuki \(branch 001\) on /);
    assert.match(forMe, /from .* until /);
    assert.match(forMe, /aria-label="End the authority of 山田 和子 to act for you">End this</);
    const iAct = en.body.slice(en.body.indexOf('id="i-act-for"'));
    assert.match(iAct, /<h3>山田 さくら<\/h3><span class="badge">Parent<\/span>/);
    assert.match(iAct, /Signing in only: no data\./);
    assert.match(iAct, /KOSEKI-00123/);
    assert.match(iAct, /with no end date/);
    assert.match(iAct, />Step down</);

    const ja = await page(ua, '/account/delegations?lang=ja');
    assert.match(ja.body, /<h2 id="for-me-h">お客さまの代わりに手続きできる人<\/h2>/);
    assert.match(ja.body, /<h2 id="i-act-h">お客さまが代わりに手続きできる人<\/h2>/);
    assert.match(ja.body, /<span class="badge">任意代理人<\/span>/);
    assert.match(ja.body, /<span class="badge">親権者<\/span>/);
    assert.match(ja.body, /ログインのみ（データの許可はできません）/);
    assert.match(ja.body, /機微な情報/);
    assert.match(ja.body, />辞退する</);
  });

  it('the principal cannot end a parent\'s authority: 403, the page says to contact the operator, nothing changes', async () => {
    const ua = await signIn(child);
    const before = await page(ua);
    assert.match(before.body, /A parent’s or court-appointed guardian’s authority cannot be ended here\. Contact the operator\./);
    assert.doesNotMatch(before.body, /action="\/account\/delegations\/end"/, 'no form is offered');
    const refused = await end(ua, parental.id, csrfOf(before.body));
    assert.equal(refused.status, 403);
    assert.match(refused.body, /role="alert"[^>]*>A parent’s or court-appointed guardian’s authority cannot be ended here/);
    assert.equal(await statusOf(parental), 'active');
    assert.deepEqual((await auditEvents(parental.id)).map((e) => e.outcome), ['failure']);
  });

  it('another account cannot end someone else\'s delegation (404, nothing changes)', async () => {
    const stranger = await createTestUser(server);
    const ua = await signIn(stranger);
    const mine = await page(ua);
    assert.match(mine.body, /No one may act for you\./);
    assert.match(mine.body, /You do not act for anyone\./);
    for (const d of [proxy, parental]) {
      const refused = await end(ua, d.id, csrfOf(mine.body));
      assert.equal(refused.status, 404);
      assert.match(refused.body, /There is no such delegation on your account\./);
      assert.equal(await statusOf(d), 'active');
    }
    assert.equal((await end(ua, 'dlg_nothing', csrfOf(mine.body))).status, 404);
  });

  it('a form without the CSRF token, or with another session\'s, is refused and changes nothing', async () => {
    const ua = await signIn(me);
    const other = await signIn(mother);
    const none = await end(ua, proxy.id);
    assert.equal(none.status, 403);
    const wrong = await end(ua, proxy.id, csrfOf((await page(other)).body));
    assert.equal(wrong.status, 403);
    assert.equal(await statusOf(proxy), 'active');
  });

  it('the principal ends an appointed proxy; it stops at once and stays listed as ended by them', async () => {
    const ua = await signIn(me);
    const done = await end(ua, proxy.id, csrfOf((await page(ua)).body));
    assert.equal(done.status, 303);
    assert.equal(done.location, '/account/delegations?done=delegation-ended');
    assert.equal(await delegations().isActive(proxy.id, me.id, mother.id), false);
    const after = await page(ua, done.location!);
    assert.match(after.body, /The delegation has ended\./);
    assert.match(after.body, /<span class="badge ended">Ended<\/span>/);
    assert.match(after.body, /Ended by you on /);
    const [event] = await auditEvents(proxy.id);
    assert.deepEqual([event?.outcome, event?.subject, event?.details?.by], ['success', me.id, 'principal']);
    // The delegate sees who ended it, in Japanese too.
    const theirs = await page(await signIn(mother), '/account/delegations?lang=ja');
    assert.match(theirs.body, /に山田 花子が終了しました。/);
    assert.equal((await end(ua, proxy.id, csrfOf(after.body))).status, 409, 'ending it again');
  });

  it('the delegate steps down from a parent\'s authority they hold', async () => {
    const ua = await signIn(me);
    const done = await end(ua, parental.id, csrfOf((await page(ua)).body));
    assert.equal(done.status, 303);
    assert.equal(done.location, '/account/delegations?done=delegation-resigned');
    assert.equal(await statusOf(parental), 'ended');
    assert.deepEqual((await delegations().activeForDelegate(me.id)), []);
    const after = await page(ua, done.location!);
    assert.match(after.body, /You stepped down\./);
    const principalView = await page(await signIn(child));
    assert.match(principalView.body, /Ended by 山田 花子 on /);
    assert.doesNotMatch(principalView.body, /cannot be ended here/, 'no operator note once it has ended');
    const events = await auditEvents(parental.id);
    assert.deepEqual(events.map((e) => [e.outcome, e.details?.by]).sort(), [['failure', 'principal'], ['success', 'delegate']]);
  });

  it('an operator\'s reason is shown; a delegation not yet started or expired says so', async () => {
    const [p, d] = [await createTestUser(server, { name: 'P' }), await createTestUser(server, { name: 'D' })];
    const ended = await register(p, d, { relationship: 'legal_guardian' });
    await delegations().end(ended.id, { by: 'operator', reason: '後見開始の審判が取り消された' });
    await register(p, d, { relationship: 'caregiver', validFrom: new Date(Date.now() + 24 * HOUR) });
    await register(p, d, { relationship: 'appointed_proxy', validFrom: new Date(Date.now() - 48 * HOUR), validUntil: new Date(Date.now() - 24 * HOUR) });
    const body = (await page(await signIn(p))).body;
    assert.match(body, /Ended by the operator on .*\. Reason: 後見開始の審判が取り消された/);
    assert.match(body, /<span class="badge ended">Not started yet<\/span>/);
    assert.match(body, /<span class="badge ended">Expired<\/span>/);
  });
});
