/**
 * The approval devices page over HTTP (/account/devices): the person's CIBA authentication devices
 * in English and Japanese, removed ones greyed; removing a lost phone from a computer (it can no
 * longer authenticate), never another account's, never without the CSRF token; and the request
 * code (CIBA user_code): set with a confirmation, refused when too short or mistyped, changed and
 * removed only after a recent sign-in, stored only as a hash.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from './support/server.ts';
import type { UserAgent } from './support/user-agent.ts';
import { createTestUser, type TestUser } from './support/users.ts';
import { accountPage, signInToAccount } from './support/account-session.ts';
import { createAuthenticationDevices } from '../src/ciba/devices.ts';
import { createCibaUserCodes } from '../src/ciba/user-codes.ts';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.close());

const url = (path: string) => `${server.issuer}${path}`;
const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)![1]!;
const db = () => server.app.storage.db;
const devices = () => createAuthenticationDevices(db());
const userCodes = () => createCibaUserCodes(db());

const signIn = (user: TestUser) => signInToAccount(server, user);
const page = (ua: UserAgent, path = '/account/devices') => accountPage(server, ua, path);
async function post(ua: UserAgent, path: string, form: Record<string, string>) {
  const res = await ua.post(url(path), form);
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}
/** Makes this person's sign-ins look an hour old, so sensitive changes ask to confirm it is them. */
async function ageSessions(accountId: string) {
  await db().updateTable('oidc_models')
    .set({ payload: sql`jsonb_set(payload, '{loginTs}', to_jsonb(${Math.floor(Date.now() / 1000) - 3600}::int))` as never })
    .where('model', '=', 'Session').where(sql<string>`payload->>'accountId'`, '=', accountId).execute();
}
async function auditOf(type: string, subject: string) {
  await server.app.audit.flush();
  return server.app.audit.query({ type, subject });
}

describe('approval devices', () => {
  it('lists the devices in English and Japanese: linked, last used, notifications, removed ones greyed with the date', async () => {
    const me = await createTestUser(server);
    const phone = await devices().bind(me.id, 'Pixel 8');
    await devices().setPushSubscription(phone.device.id, { endpoint: 'https://push.example/abc', keys: { p256dh: 'p', auth: 'a' } });
    const tablet = await devices().bind(me.id, 'iPad');
    const old = await devices().bind(me.id, 'Old iPhone <b>');
    assert.equal(await devices().remove(me.id, old.device.id), true);
    const ua = await signIn(me);

    const en = await page(ua, '/account/devices?lang=en');
    assert.equal(en.status, 200);
    assert.match(en.body, /<a href="\/account\/devices" aria-current="page">Approval devices<\/a>/);
    assert.match(en.body, /open this on your phone/);
    assert.match(en.body, /<a href="\/device">the approval app \(\/device\)<\/a>/);
    const row = (id: string) => new RegExp(`<tr[^>]*id="${id}">([\\s\\S]*?)</tr>`).exec(en.body)?.[1] ?? '';
    assert.match(row(phone.device.id), /<td>Pixel 8<\/td>/);
    assert.match(row(phone.device.id), /<time datetime="[^"]+">[^<]+<\/time><\/td><td><time datetime=/, 'linked and last used');
    assert.match(row(phone.device.id), /<td>On<\/td>/);
    assert.match(row(phone.device.id), /aria-label="Remove Pixel 8">Remove</);
    assert.match(row(tablet.device.id), /<td>Off<\/td>/);
    assert.match(en.body, new RegExp(`<tr class="muted" id="${old.device.id}">`), 'a removed device is greyed');
    assert.match(row(old.device.id), /Old iPhone &#60;b&#62; <span class="badge ended">Removed \d/);
    assert.doesNotMatch(row(old.device.id), /<form/, 'no Remove button for a removed device');
    assert.equal(en.body.match(/action="\/account\/devices\/remove"/g)?.length, 2);
    assert.ok(en.body.indexOf(tablet.device.id) < en.body.indexOf(old.device.id), 'active ones first');
    assert.match(en.body, /No request code is set\./);

    const ja = await page(ua, '/account/devices?lang=ja');
    assert.match(ja.body, /<a href="\/account\/devices" aria-current="page">承認用の端末<\/a>/);
    assert.match(ja.body, /<h2 id="request-code-h">依頼コード<\/h2>/);
    assert.match(ja.body, /<td>オン<\/td>/);
    assert.match(ja.body, /aria-label="Pixel 8 を削除">削除</);
    assert.match(ja.body, /<span class="badge ended">\d{4}年\d+月\d+日 [\d:]+ に削除/);
    assert.match(ja.body, /依頼コードは設定されていません。/);

    const overview = await page(ua, '/account?lang=en');
    assert.match(overview.body, /<a href="\/account\/devices">The phones that approve services’ requests, and your request code<\/a>/);
  });

  it('a person without a linked phone is told how to link one', async () => {
    const ua = await signIn(await createTestUser(server));
    const en = await page(ua);
    assert.match(en.body, /<p id="approval-devices-none">No phone is linked to your account\.<\/p>/);
    assert.match(en.body, /href="\/device"/);
  });

  it('removes a lost phone: it can no longer authenticate, the others still can; audited with via account', async () => {
    const me = await createTestUser(server);
    const lost = await devices().bind(me.id, 'Lost phone');
    const kept = await devices().bind(me.id, 'Other phone');
    const ua = await signIn(me);
    const before = await page(ua);
    const removed = await post(ua, '/account/devices/remove', { csrf: csrfOf(before.body), id: lost.device.id });
    assert.equal(removed.status, 303);
    assert.equal(removed.location, '/account/devices?done=device-removed');
    assert.equal(await devices().authenticate(lost.secret), undefined);
    assert.equal((await devices().authenticate(kept.secret))?.id, kept.device.id);
    const after = await page(ua, removed.location!);
    assert.match(after.body, /role="status">The device was removed\. It can no longer approve anything\./);
    assert.match(after.body, new RegExp(`<tr class="muted" id="${lost.device.id}">`));
    const events = await auditOf('device.removed', me.id);
    assert.deepEqual(events.map((e) => e.details), [{ device: lost.device.id, via: 'account' }]);

    const again = await post(ua, '/account/devices/remove', { csrf: csrfOf(before.body), id: lost.device.id });
    assert.equal(again.status, 409);
    assert.match(again.body, /role="alert"[^>]*>That device was already removed\./);
  });

  it('removal needs no fresh sign-in: it only takes power away', async () => {
    const me = await createTestUser(server);
    const lost = await devices().bind(me.id, 'Lost phone');
    const ua = await signIn(me);
    const csrf = csrfOf((await page(ua)).body);
    await ageSessions(me.id);
    assert.equal((await post(ua, '/account/devices/remove', { csrf, id: lost.device.id })).status, 303);
    assert.equal(await devices().authenticate(lost.secret), undefined);
  });

  it('another account\'s device is not found (404) and stays linked; an unknown id likewise', async () => {
    const owner = await createTestUser(server);
    const theirs = await devices().bind(owner.id, 'Their phone');
    const ua = await signIn(await createTestUser(server));
    const csrf = csrfOf((await page(ua)).body);
    const refused = await post(ua, '/account/devices/remove', { csrf, id: theirs.device.id });
    assert.equal(refused.status, 404);
    assert.match(refused.body, /role="alert"[^>]*>There is no such device on your account\./);
    assert.equal((await devices().authenticate(theirs.secret))?.id, theirs.device.id);
    assert.equal((await post(ua, '/account/devices/remove', { csrf, id: 'dev_nothing' })).status, 404);
    assert.equal((await post(ua, '/account/devices/remove', { csrf })).status, 404);
    assert.deepEqual(await auditOf('device.removed', owner.id), []);
  });

  it('a form without its CSRF token is refused (403) and removes nothing', async () => {
    const me = await createTestUser(server);
    const phone = await devices().bind(me.id, 'Phone');
    const ua = await signIn(me);
    const refused = await post(ua, '/account/devices/remove', { id: phone.device.id });
    assert.equal(refused.status, 403);
    assert.equal(await devices().authenticate(phone.secret) !== undefined, true);
    assert.equal((await post(ua, '/account/request-code', { code: 'a request code', confirm: 'a request code' })).status, 403);
    assert.equal(await userCodes().isSet(me.id), false);
  });
});

describe('the request code', () => {
  it('is set with a confirmation, stored only as a hash, never echoed; changed and removed', async () => {
    const me = await createTestUser(server);
    const ua = await signIn(me);
    const csrf = csrfOf((await page(ua)).body);
    const setCode = (code: string, confirm = code) => post(ua, '/account/request-code', { csrf, code, confirm });

    const mismatch = await setCode('sakura-2026', 'sakura-2025');
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.body, /role="alert" id="code-error">The two codes are not the same\./);
    const short = await setCode('1234567');
    assert.equal(short.status, 400);
    assert.match(short.body, /A request code has 8 to 64 characters\./);
    assert.equal((await setCode('x'.repeat(65))).status, 400);
    for (const refused of [mismatch, short]) {
      assert.doesNotMatch(refused.body, /sakura-202|1234567/, 'what was typed is not put back');
    }
    assert.equal(await userCodes().isSet(me.id), false);

    const set = await setCode('sakura-2026');
    assert.equal(set.status, 303);
    assert.equal(set.location, '/account/devices?done=request-code-set');
    const row = await db().selectFrom('ciba_user_codes').selectAll().where('account_id', '=', me.id).executeTakeFirstOrThrow();
    assert.match(row.code_hash, /^scrypt\$/);
    assert.ok(!row.code_hash.includes('sakura'), 'the stored value is a hash, never the code');
    assert.equal(await userCodes().check(me.id, 'sakura-2026'), true);
    const shown = await page(ua, set.location!);
    assert.match(shown.body, /Your request code was saved\./);
    assert.match(shown.body, /A request code is set\./);
    assert.match(shown.body, />Change the request code</);
    assert.doesNotMatch(shown.body, /sakura/);

    // Counted in characters, not bytes: eight Japanese characters are enough.
    assert.equal((await setCode('さくらのはなさく')).status, 303);
    assert.equal(await userCodes().check(me.id, 'さくらのはなさく'), true);
    assert.equal(await userCodes().check(me.id, 'sakura-2026'), false, 'the old code no longer works');

    const removed = await post(ua, '/account/request-code/remove', { csrf });
    assert.equal(removed.status, 303);
    assert.equal(removed.location, '/account/devices?done=request-code-removed');
    assert.equal(await userCodes().isSet(me.id), false);
    assert.match((await page(ua, removed.location!)).body, /No request code is set\./);

    const set_ = await auditOf('ciba.user_code_set', me.id);
    assert.deepEqual(set_.map((e) => e.details).reverse(), [{ changed: false, via: 'account' }, { changed: true, via: 'account' }]);
    assert.ok(!JSON.stringify(set_).includes('sakura'));
    assert.equal((await auditOf('ciba.user_code_removed', me.id)).length, 1);
  });

  it('is changed or removed only after a recent sign-in; an old one is sent to confirm first and nothing changes', async () => {
    const me = await createTestUser(server);
    await userCodes().set(me.id, 'first code 1');
    const ua = await signIn(me);
    const csrf = csrfOf((await page(ua)).body);
    await ageSessions(me.id);
    assert.equal((await page(ua)).status, 200, 'the page itself is open');
    for (const [path, form] of [['/account/request-code', { code: 'second code 2', confirm: 'second code 2' }], ['/account/request-code/remove', {}]] as const) {
      const stale = await post(ua, path, { csrf, ...form });
      assert.equal(stale.status, 303);
      assert.equal(stale.location, '/account/sign-in?return=%2Faccount%2Fdevices');
    }
    assert.equal(await userCodes().check(me.id, 'first code 1'), true);
  });
});
