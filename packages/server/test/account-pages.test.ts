/**
 * The account pages over HTTP, as the forms are submitted: signing in to /account, re-authentication
 * before sensitive changes, profile and e-mail, password and two-step verification with recovery
 * codes, devices and sign-out, deletion (tokens stop working), and account recovery up to the new
 * passkey (passkey ceremonies themselves are in the browser tests).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from './support/server.ts';
import { registerTestClient } from './support/clients.ts';
import { runCodeFlow, withNonceRetry } from './support/flow.ts';
import { createUserAgent, type UserAgent } from './support/user-agent.ts';
import { createTestUser, type TestUser } from './support/users.ts';
import { listMailbox } from '../src/mail/mailer.ts';
import { base32Decode, totpCode, totpStep } from '../src/identity/totp.ts';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.close());

const url = (path: string) => `${server.issuer}${path}`;
const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)![1]!;
const db = () => server.app.storage.db;

async function page(ua: UserAgent, path: string) {
  const res = await ua.request(url(path));
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

/** Signs in on /account/sign-in with a password (and a one-time code when asked). */
async function signIn(user: TestUser, ua = createUserAgent(server.dispatcher(), server.issuer), code?: () => string) {
  const form = await page(ua, '/account/sign-in');
  const res = await ua.post(url('/account/sign-in/login'), { csrf: csrfOf(form.body), username: user.username, password: user.password });
  await res.text();
  assert.equal(res.status, 303, 'password accepted');
  if (res.headers.get('location') === '/account/sign-in') {
    assert.ok(code, 'a one-time code is asked for');
    const second = await page(ua, '/account/sign-in');
    assert.match(second.body, /action="\/account\/sign-in\/otp"/);
    const done = await ua.post(url('/account/sign-in/otp'), { csrf: csrfOf(second.body), code: code() });
    await done.text();
    assert.equal(done.status, 303);
    return { ua, location: done.headers.get('location') };
  }
  return { ua, location: res.headers.get('location') };
}

/** Makes this browser's sign-in look an hour old, so sensitive pages ask to confirm it is the person. */
async function ageSessions(accountId: string) {
  await db().updateTable('oidc_models')
    .set({ payload: sql`jsonb_set(payload, '{loginTs}', to_jsonb(${Math.floor(Date.now() / 1000) - 3600}::int))` as never })
    .where('model', '=', 'Session').where(sql<string>`payload->>'accountId'`, '=', accountId).execute();
}

async function withEmail(user: TestUser, email = `${user.username}@example.jp`) {
  await server.app.accounts.changeEmail(user.id, email);
  return email;
}

describe('signing in to the account pages', () => {
  it('an anonymous visit goes to the sign-in page and comes back after it', async () => {
    const user = await createTestUser(server);
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const first = await page(ua, '/account/activity');
    assert.equal(first.status, 303);
    assert.equal(first.location, '/account/sign-in?return=%2Faccount%2Factivity');
    const form = await page(ua, first.location!);
    assert.match(form.body, /Sign in to manage your account/);
    assert.match(form.body, /href="\/recover"/, 'a way back in for a person who lost their passkey');
    const res = await ua.post(url('/account/sign-in/login'), { csrf: csrfOf(form.body), username: user.username, password: user.password });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/account/activity');
    const activity = await page(ua, '/account/activity');
    assert.equal(activity.status, 200);
    assert.match(activity.body, /This device/);
    assert.match(activity.body, /<td>Password<\/td>/);
  });

  it('a wrong password is refused with 401 and recorded in the history the person sees', async () => {
    const user = await createTestUser(server);
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const form = await page(ua, '/account/sign-in');
    const bad = await ua.post(url('/account/sign-in/login'), { csrf: csrfOf(form.body), username: user.username, password: 'not it' });
    assert.equal(bad.status, 401);
    assert.match(await bad.text(), /not correct/);
    await signIn(user, ua);
    const activity = await page(ua, '/account/activity');
    assert.match(activity.body, /class="failed"/);
    assert.match(activity.body, /Failed/);
  });

  it('refuses a form without its CSRF token or from another origin; nothing changes', async () => {
    const user = await createTestUser(server);
    const { ua } = await signIn(user);
    const overview = await page(ua, '/account');
    const missing = await ua.post(url('/account/profile'), { name: 'Mallory' });
    assert.equal(missing.status, 403);
    const foreign = await ua.post(url('/account/profile'), { name: 'Mallory', csrf: csrfOf(overview.body) }, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal((await server.app.accounts.findById(user.id))!.claims.name, 'Hanako Yamada');
    const ok = await ua.post(url('/account/profile'), { name: '山田 花子', csrf: csrfOf(overview.body) });
    assert.equal(ok.status, 303);
    assert.equal((await server.app.accounts.findById(user.id))!.claims.name, '山田 花子');
    assert.match((await page(ua, '/account?done=profile')).body, /Your profile was saved/);
  });

  it('sensitive pages ask an old sign-in to confirm it is the person, then return there', async () => {
    const user = await createTestUser(server);
    const { ua } = await signIn(user);
    assert.equal((await page(ua, '/account/password')).status, 200, 'a fresh sign-in goes straight in');
    await ageSessions(user.id);
    const stale = await page(ua, '/account/password');
    assert.equal(stale.status, 303);
    assert.equal(stale.location, '/account/sign-in?return=%2Faccount%2Fpassword');
    const confirm = await page(ua, stale.location!);
    assert.match(confirm.body, /Confirm it’s you/);
    assert.match(confirm.body, new RegExp(`name="username" value="${user.username}"`), 'only this person can confirm');
    const res = await ua.post(url('/account/sign-in/login'), { csrf: csrfOf(confirm.body), username: 'someone-else', password: user.password });
    assert.equal(res.status, 303, 'the username field is ignored: it is the signed-in person');
    assert.equal(res.headers.get('location'), '/account/password');
    // A form posted while stale changes nothing and sends the person to confirm first.
    await ageSessions(user.id);
    const form = await page(ua, '/account');
    const post = await ua.post(url('/account/password'), { csrf: csrfOf(form.body), password: 'a new password 1', password2: 'a new password 1' });
    assert.equal(post.status, 303);
    assert.equal(post.headers.get('location'), '/account/sign-in?return=%2Faccount%2Fpassword');
    const { location } = await signIn({ ...user }, createUserAgent(server.dispatcher(), server.issuer));
    assert.equal(location, '/account', 'the old password still works');
  });
});

describe('password and two-step verification', () => {
  it('turns TOTP on with the QR code’s secret, shows ten recovery codes once, then asks for a code after the password', async () => {
    const user = await createTestUser(server);
    await withEmail(user);
    const { ua } = await signIn(user);
    const enrol = await page(ua, '/account/totp');
    assert.equal(enrol.status, 200);
    assert.match(enrol.body, /<svg/, 'a QR code, inline');
    const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(enrol.body)![1]!.replace(/ /g, '');
    const again = await page(ua, '/account/totp');
    assert.equal(/id="totp-secret">([A-Z2-7 ]+)</.exec(again.body)![1]!.replace(/ /g, ''), secret, 'a reload shows the same secret');
    const wrong = await ua.post(url('/account/totp'), { csrf: csrfOf(enrol.body), code: '000000' === totpCode(base32Decode(secret), totpStep(Date.now())) ? '111111' : '000000' });
    assert.equal(wrong.status, 400);
    const right = await ua.post(url('/account/totp'), { csrf: csrfOf(enrol.body), code: totpCode(base32Decode(secret), totpStep(Date.now())) });
    const codesPage = await right.text();
    assert.equal(right.status, 200);
    const codes = [...codesPage.matchAll(/<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})<\/code><\/li>/g)].map((m) => m[1]!);
    assert.equal(codes.length, 10);
    assert.match((await page(ua, '/account/security')).body, /10 of 10 recovery codes left/);
    const [notice] = await listMailbox(db(), { to: `${user.username}@example.jp`, limit: 1 });
    assert.match(notice!.text, /authenticator app was turned on/);

    // Signing in now takes the password and then a code; a recovery code works once.
    const second = await signIn(user, undefined, () => codes[0]!);
    assert.equal(second.location, '/account');
    const third = createUserAgent(server.dispatcher(), server.issuer);
    const form = await page(third, '/account/sign-in');
    await (await third.post(url('/account/sign-in/login'), { csrf: csrfOf(form.body), username: user.username, password: user.password })).text();
    const otpForm = await page(third, '/account/sign-in');
    const reused = await third.post(url('/account/sign-in/otp'), { csrf: csrfOf(otpForm.body), code: codes[0]! });
    assert.equal(reused.status, 401, 'a used recovery code does not work again');
    assert.equal((await page(third, '/account')).status, 303, 'and the person is not signed in');
    assert.match((await page(second.ua, '/account/security')).body, /9 of 10 recovery codes left/);

    // Turning it off removes the codes too.
    const security = await page(second.ua, '/account/security');
    assert.equal((await second.ua.post(url('/account/totp/remove'), { csrf: csrfOf(security.body) })).status, 303);
    assert.equal(await server.app.storage.db.selectFrom('recovery_codes').select('code_hash').where('account_id', '=', user.id).execute().then((r) => r.length), 0);
    assert.equal((await signIn(user)).location, '/account', 'the password alone is enough again');
  });

  it('changes the password: mismatched or short ones are refused; the old one stops working', async () => {
    const user = await createTestUser(server);
    const { ua: elsewhere } = await signIn(user);
    const { ua } = await signIn(user);
    const form = await page(ua, '/account/password');
    const csrf = csrfOf(form.body);
    assert.equal((await ua.post(url('/account/password'), { csrf, password: 'long enough 1', password2: 'long enough 2' })).status, 400);
    assert.equal((await ua.post(url('/account/password'), { csrf, password: 'short', password2: 'short' })).status, 400);
    const ok = await ua.post(url('/account/password'), { csrf, password: 'a much better passphrase', password2: 'a much better passphrase' });
    assert.equal(ok.status, 303);
    assert.equal((await page(elsewhere, '/account')).status, 303, 'whoever knew the old password is signed out elsewhere');
    assert.equal((await page(ua, '/account')).status, 200, 'but not here');
    const stale = createUserAgent(server.dispatcher(), server.issuer);
    const signInForm = await page(stale, '/account/sign-in');
    assert.equal((await stale.post(url('/account/sign-in/login'), { csrf: csrfOf(signInForm.body), username: user.username, password: user.password })).status, 401);
    assert.equal((await signIn({ ...user, password: 'a much better passphrase' })).location, '/account');
  });

  it('will not remove the password of an account that has no passkey (it would be locked out)', async () => {
    const user = await createTestUser(server);
    const { ua } = await signIn(user);
    const security = await page(ua, '/account/security');
    assert.doesNotMatch(security.body, /action="\/account\/password\/remove"/, 'not even offered');
    const res = await ua.post(url('/account/password/remove'), { csrf: csrfOf(security.body) });
    assert.equal(res.status, 409);
    assert.ok((await server.app.accounts.findById(user.id))!.hasPassword);
  });
});

describe('devices', () => {
  it('signs out another device at once, then everywhere (this one included) with a notice by mail', async () => {
    const user = await createTestUser(server);
    const email = await withEmail(user);
    const { ua: laptop } = await signIn(user);
    const { ua: phone } = await signIn(user);
    const activity = await page(laptop, '/account/activity');
    const uids = [...activity.body.matchAll(/name="id" value="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(uids.length, 2);
    const current = /This device[\s\S]*?name="id" value="([^"]+)"/.exec(activity.body)![1]!;
    const other = uids.find((u) => u !== current)!;
    const ended = await laptop.post(url('/account/sessions/end'), { csrf: csrfOf(activity.body), id: other });
    assert.equal(ended.headers.get('location'), '/account/activity?done=session-ended');
    assert.equal((await page(phone, '/account')).status, 303, 'the phone is signed out');
    assert.equal((await page(laptop, '/account')).status, 200, 'the laptop is not');

    const { ua: tablet } = await signIn(user);
    const before = await page(laptop, '/account/activity');
    const all = await laptop.post(url('/account/sessions/end-all'), { csrf: csrfOf(before.body) });
    assert.equal(all.headers.get('location'), '/account/sign-in?done=signed-out-everywhere');
    assert.equal((await page(laptop, '/account')).status, 303);
    assert.equal((await page(tablet, '/account')).status, 303);
    assert.equal((await server.app.storage.db.selectFrom('oidc_models').select('id').where('model', '=', 'Session')
      .where(sql<string>`payload->>'accountId'`, '=', user.id).execute()).length, 0);
    const [notice] = await listMailbox(db(), { to: email, limit: 1 });
    assert.match(notice!.text, /signed out on every device/);
    assert.match((await page(laptop, '/account/sign-in?done=signed-out-everywhere')).body, /You are signed out on every device/);
  });

  it('cannot end another person’s session', async () => {
    const alice = await createTestUser(server);
    const bob = await createTestUser(server);
    const { ua: aliceUa } = await signIn(alice);
    const { ua: bobUa } = await signIn(bob);
    const bobUid = /name="id" value="([^"]+)"/.exec((await page(bobUa, '/account/activity')).body)![1]!;
    const activity = await page(aliceUa, '/account/activity');
    await (await aliceUa.post(url('/account/sessions/end'), { csrf: csrfOf(activity.body), id: bobUid })).text();
    assert.equal((await page(bobUa, '/account')).status, 200);
  });
});

describe('e-mail address', () => {
  it('changes only after a code sent to the new address; the old one is told', async () => {
    const user = await createTestUser(server);
    const old = await withEmail(user);
    const { ua } = await signIn(user);
    const form = await page(ua, '/account/email');
    const next = `${user.username}.new@example.jp`;
    const sent = await ua.post(url('/account/email'), { csrf: csrfOf(form.body), email: next });
    const codePage = await sent.text();
    assert.equal(sent.status, 200);
    const challenge = /name="id" value="([^"]+)"/.exec(codePage)![1]!;
    const [mail] = await listMailbox(db(), { to: next, limit: 1 });
    const code = /: (\d{6})/.exec(mail!.text)![1]!;
    const wrong = await ua.post(url('/account/email/verify'), { csrf: csrfOf(codePage), id: challenge, email: next, code: code === '000000' ? '111111' : '000000' });
    assert.equal(wrong.status, 400);
    assert.equal((await server.app.accounts.findById(user.id))!.email, old);
    const right = await ua.post(url('/account/email/verify'), { csrf: csrfOf(codePage), id: challenge, email: next, code });
    assert.equal(right.status, 303);
    assert.equal((await server.app.accounts.findById(user.id))!.email, next);
    const [notice] = await listMailbox(db(), { to: old, limit: 1 });
    assert.match(notice!.text, /e-mail address of your account was changed/);
  });

  it('a code made for someone else’s change is refused', async () => {
    const alice = await createTestUser(server);
    const bob = await createTestUser(server);
    const { ua: aliceUa } = await signIn(alice);
    const { ua: bobUa } = await signIn(bob);
    const target = `${alice.username}.other@example.jp`;
    const aliceForm = await page(aliceUa, '/account/email');
    const codePage = await (await aliceUa.post(url('/account/email'), { csrf: csrfOf(aliceForm.body), email: target })).text();
    const challenge = /name="id" value="([^"]+)"/.exec(codePage)![1]!;
    const [mail] = await listMailbox(db(), { to: target, limit: 1 });
    const code = /: (\d{6})/.exec(mail!.text)![1]!;
    const bobForm = await page(bobUa, '/account/email');
    const stolen = await bobUa.post(url('/account/email/verify'), { csrf: csrfOf(bobForm.body), id: challenge, email: target, code });
    assert.equal(stolen.status, 400);
    assert.notEqual((await server.app.accounts.findById(bob.id))!.email, target);
  });
});

describe('deleting the account', () => {
  it('needs the address typed out; then tokens stop working, personal data is gone, the deletion is recorded', async () => {
    const user = await createTestUser(server);
    const email = await withEmail(user);
    const tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
    const { as, tokens } = await runCodeFlow(server, tc, { username: user.username, password: user.password });
    const { ua } = await signIn(user);
    const form = await page(ua, '/account/delete');
    assert.match(form.body, /cannot be undone/);
    const typo = await ua.post(url('/account/delete'), { csrf: csrfOf(form.body), confirm: 'someone@example.jp' });
    assert.equal(typo.status, 400);
    assert.ok(await server.app.accounts.findById(user.id));
    const done = await ua.post(url('/account/delete'), { csrf: csrfOf(form.body), confirm: email.toUpperCase() });
    assert.equal(done.status, 200);
    assert.match(await done.text(), /Your account was deleted/);

    assert.equal(await server.app.accounts.findById(user.id), undefined);
    assert.equal((await page(ua, '/account')).status, 303, 'signed out');
    const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
    await assert.rejects(withNonceRetry(async () => oauth.processRefreshTokenResponse(as, tc.client,
      await oauth.refreshTokenGrantRequest(as, tc.client, tc.clientAuth, tokens.refresh_token!, { ...tc.options, DPoP }))), (err: Error & { cause?: { error?: string } }) => err.cause?.error === 'invalid_grant');
    const introspection = await oauth.processIntrospectionResponse(as, tc.client,
      await oauth.introspectionRequest(as, tc.client, tc.clientAuth, tokens.access_token, tc.options));
    assert.equal(introspection.active, false, 'the access token is no longer active');
    const history = await db().selectFrom('login_history').select('id').where('account_id', '=', user.id).execute();
    assert.equal(history.length, 0, 'sign-in history (addresses, devices) erased');
    const consents = await db().selectFrom('consent_records').select(['decision', 'client_id']).where('subject', '=', user.id).execute();
    assert.deepEqual(consents.map((c) => [c.decision, c.client_id]), [['approved', tc.clientId]], 'the consent record outlives the account');
    const tombstone = await db().selectFrom('deleted_accounts').selectAll().where('id', '=', user.id).executeTakeFirst();
    assert.equal(tombstone?.reason, 'self');
    const [goodbye] = await listMailbox(db(), { to: email, limit: 1 });
    assert.match(goodbye!.text, /account was deleted/);
    await server.app.audit.flush();
    const audit = await db().selectFrom('audit_events').select('type').where('subject', '=', user.id).where('type', '=', 'account.deleted').execute();
    assert.equal(audit.length, 1, 'the audit trail keeps the event (by opaque id)');
  });
});

describe('account recovery', () => {
  async function start(email: string) {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const form = await page(ua, '/recover');
    assert.equal(form.status, 200);
    const sent = await ua.post(url('/recover'), { csrf: csrfOf(form.body), email });
    assert.equal(sent.status, 303);
    assert.equal(sent.headers.get('location'), '/recover/verify');
    const verify = await page(ua, '/recover/verify');
    return { ua, verify };
  }

  it('answers the same for a known and an unknown address, also at the hourly limit', async () => {
    const user = await createTestUser(server);
    const known = await withEmail(user);
    const statuses = async (email: string) => {
      const ua = createUserAgent(server.dispatcher(), server.issuer);
      const out: number[] = [];
      for (let i = 0; i < 6; i++) {
        const form = await page(ua, '/recover');
        const r = await ua.post(url('/recover'), { csrf: csrfOf(form.body), email });
        await r.text();
        out.push(r.status);
      }
      return out;
    };
    const expected = [303, 303, 303, 303, 303, 429];
    assert.deepEqual(await statuses(known), expected);
    assert.deepEqual(await statuses(`nobody-${Date.now()}@example.jp`), expected, 'an unknown address is counted the same way');
  });

  it('reads the same for an unknown address, and sends nothing there', async () => {
    const { ua, verify } = await start('nobody-here@example.jp');
    assert.match(verify.body, /If nobody-here@example.jp belongs to an account/);
    assert.equal((await listMailbox(db(), { to: 'nobody-here@example.jp', limit: 1 })).length, 0);
    const r = await ua.post(url('/recover/verify'), { csrf: csrfOf(verify.body), code: '123456' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /not correct or has expired/);
  });

  it('a right code leads to creating a new passkey; with two-step verification, a recovery code is needed first', async () => {
    const user = await createTestUser(server);
    const email = await withEmail(user);
    const codes = await (async () => {
      const { ua } = await signIn(user);
      const enrol = await page(ua, '/account/totp');
      const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(enrol.body)![1]!.replace(/ /g, '');
      const shown = await (await ua.post(url('/account/totp'), { csrf: csrfOf(enrol.body), code: totpCode(base32Decode(secret), totpStep(Date.now())) })).text();
      return [...shown.matchAll(/<code>([A-Z0-9]{5}-[A-Z0-9]{5})<\/code>/g)].map((m) => m[1]!);
    })();
    const { ua, verify } = await start(email);
    // The recovery mail goes out in the background (the answer must not wait for it).
    let mail: Awaited<ReturnType<typeof listMailbox>>[number] | undefined;
    for (let i = 0; i < 50 && !/recovery code/.test(mail?.subject ?? ''); i++) {
      [mail] = await listMailbox(db(), { to: email, limit: 1 });
      if (!/recovery code/.test(mail?.subject ?? '')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(mail!.subject, /recovery code/);
    const code = /: (\d{6})/.exec(mail!.text)![1]!;
    const r = await ua.post(url('/recover/verify'), { csrf: csrfOf(verify.body), code });
    assert.equal(r.headers.get('location'), '/recover/second');
    assert.equal((await page(ua, '/recover/passkey')).location, '/recover/second', 'no passkey before the second proof');
    const second = await page(ua, '/recover/second');
    assert.equal((await ua.post(url('/recover/second'), { csrf: csrfOf(second.body), code: 'zzzzz-zzzzz' })).status, 401);
    const ok = await ua.post(url('/recover/second'), { csrf: csrfOf(second.body), code: codes[0]! });
    assert.equal(ok.headers.get('location'), '/recover/passkey');
    const passkeyPage = await page(ua, '/recover/passkey');
    assert.equal(passkeyPage.status, 200);
    assert.match(passkeyPage.body, /id="webauthn-options"/);
    assert.match(passkeyPage.body, /"residentKey":"required"/);
    // The e-mail code is single use.
    const reuse = await start(email);
    const again = await reuse.ua.post(url('/recover/verify'), { csrf: csrfOf(reuse.verify.body), code });
    assert.equal(again.status, 400);
  });
});

describe('a passwordless-only deployment', () => {
  let strict: TestServer;
  before(async () => { strict = await startTestServer({ config: { identity: { passwords: false } } }); });
  after(() => strict.close());

  it('has no password or authenticator-app pages', async () => {
    const ua = createUserAgent(strict.dispatcher(), strict.issuer);
    for (const path of ['/account/password', '/account/totp']) {
      const res = await ua.request(`${strict.issuer}${path}`);
      await res.text();
      assert.equal(res.status, 404, path);
    }
    const signInPage = await (await ua.request(`${strict.issuer}/account/sign-in`)).text();
    assert.doesNotMatch(signInPage, /action="\/account\/sign-in\/login"/);
  });
});

describe('bad input on the account pages', () => {
  it('answers with the right status and changes nothing: oversized, unknown, empty, wrong method, wrong type', async () => {
    const user = await createTestUser(server);
    const { ua } = await signIn(user);
    const csrf = csrfOf((await page(ua, '/account/security')).body);
    const cases: Array<[string, Record<string, string>, number]> = [
      ['/account/profile', { csrf, name: 'x'.repeat(101) }, 400],
      ['/account/profile', { csrf, name: 'x'.repeat(20_000) }, 413],
      ['/account/passkeys/remove', { csrf, id: 'no-such-passkey' }, 404],
      ['/account/passkeys/rename', { csrf, id: 'no-such-passkey', name: 'Mine' }, 404],
      ['/account/passkeys/rename', { csrf, id: 'no-such-passkey', name: '' }, 400],
      ['/account/email', { csrf, email: 'not an address' }, 400],
      ['/account/email/verify', { csrf, id: 'not-a-uuid', code: '123456', email: 'a@example.jp' }, 400],
      ['/account/totp', { csrf, code: 'abc' }, 400],
      ['/account/nothing-here', { csrf }, 404],
    ];
    for (const [path, form, status] of cases) {
      const res = await ua.post(url(path), form);
      const body = await res.text();
      assert.equal(res.status, status, `${path} ${JSON.stringify(form).slice(0, 60)}: ${body.slice(0, 200)}`);
    }
    const json = await ua.request(url('/account/profile'), { method: 'POST', headers: { 'content-type': 'application/json', origin: new URL(server.issuer).origin }, body: '{"name":"x"}' });
    assert.equal(json.status, 415);
    const get = await ua.request(url('/account/sessions/end-all'));
    assert.equal(get.status, 404, 'state changes only by POST');
    assert.equal((await server.app.accounts.findById(user.id))!.claims.name, 'Hanako Yamada');
    assert.equal((await page(ua, '/account')).status, 200, 'still signed in');
  });
});
