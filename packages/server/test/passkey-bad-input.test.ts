/**
 * Passkey ceremonies through the pages with a software authenticator that misbehaves: a
 * credential made for another site, an assertion from another origin, no user verification, a
 * replayed assertion, a cloned authenticator's counter going backwards. Each gets a clear message,
 * a 4xx, an audit event, and nobody signed in or registered. A well-behaved assertion first
 * shows the setup would succeed, so each refusal is the rule at work and not a broken test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/server.ts';
import { registerTestClient } from './support/clients.ts';
import { discover, pushAuthorizationRequest } from './support/flow.ts';
import { createUserAgent, type UserAgent } from './support/user-agent.ts';
import { authenticatorFor, createPasskey, type Misbehaviour, type StoredPasskey } from './support/soft-authenticator.ts';
import { createPasskeys, relyingPartyFor } from '../src/identity/passkeys.ts';
import { listMailbox } from '../src/mail/mailer.ts';

let server: TestServer;
before(async () => { server = await startTestServer({ https: false }); });
after(() => server.close());

const optionsOf = (body: string) => JSON.parse(/<script type="application\/json" id="webauthn-options">([^<]*)<\/script>/.exec(body)![1]!);
const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)![1]!;
const origin = () => new URL(server.issuer).origin;

/** An account with one passkey, registered through the service as the sign-up page does. */
async function personWithPasskey(): Promise<{ accountId: string; stored: StoredPasskey }> {
  const account = await server.app.accounts.createFromVerifiedEmail({ email: `p${Date.now()}${Math.random().toString(36).slice(2, 6)}@example.jp` });
  const passkeys = createPasskeys(server.app.storage.db, relyingPartyFor(server.issuer));
  const options = await passkeys.registrationOptions({ accountId: account.id, userName: account.username, displayName: account.username, binding: 'test' });
  const { response, passkey } = createPasskey(options as never, origin());
  await passkeys.register({ accountId: account.id, binding: 'test', response: response as never, name: 'Test key' });
  return { accountId: account.id, stored: passkey };
}

/** A client's sign-in page: its URL, CSRF token and passkey options. */
async function signInPage(ua = createUserAgent(server.dispatcher(), server.issuer)) {
  const tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
  const par = await pushAuthorizationRequest(await discover(server, tc), tc);
  const first = await ua.request(par.authorizationUrl);
  const url = new URL(first.headers.get('location')!, server.issuer).toString();
  const body = await (await ua.request(url)).text();
  return { ua, url, csrf: csrfOf(body), options: optionsOf(body) };
}

async function postAssertion(page: { ua: UserAgent; url: string; csrf: string }, credential: unknown) {
  const res = await page.ua.post(`${page.url}/passkey`, { csrf: page.csrf, credential: JSON.stringify(credential) });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

async function auditTypes(subject: string) {
  await server.app.audit.flush();
  const rows = await server.app.storage.db.selectFrom('audit_events').select(['type', 'details']).where('subject', '=', subject).orderBy('id').execute();
  return rows;
}

describe('passkey sign-in with a misbehaving authenticator', () => {
  it('a well-behaved assertion signs in (the baseline the refusals below differ from)', async () => {
    const { stored } = await personWithPasskey();
    const page = await signInPage();
    const r = await postAssertion(page, authenticatorFor(stored).get(page.options, origin()));
    assert.equal(r.status, 303, r.body.slice(0, 300));
    assert.doesNotMatch(r.location ?? '', /\/interaction\/[^/]+$/, 'on to the client, not back to the sign-in page');
  });

  const refusals: Array<[string, Misbehaviour, RegExp]> = [
    ['signed for another relying party (RP ID)', { rpId: 'evil.example' }, /could not be verified/],
    ['from another origin', { origin: 'https://evil.example' }, /could not be verified/],
    ['without user verification', { userVerified: false }, /could not be verified/],
  ];
  for (const [name, bad, message] of refusals) {
    it(`an assertion ${name} → 400, a message, an audit event, nobody signed in`, async () => {
      const { accountId, stored } = await personWithPasskey();
      const page = await signInPage();
      const r = await postAssertion(page, authenticatorFor(stored).get(page.options, origin(), bad));
      assert.equal(r.status, 400);
      assert.match(r.body, message);
      assert.match(r.body, /id="webauthn-options"/, 'the person can try again on the same page');
      const events = await auditTypes(accountId);
      assert.equal(events.filter((e) => e.type === 'login.success').length, 0);
      const history = await server.app.storage.db.selectFrom('login_history').select('result').where('account_id', '=', accountId).execute();
      assert.deepEqual(history.map((h) => h.result), [], 'not tied to the account: the signature was never trusted');
      const failures = await server.app.storage.db.selectFrom('audit_events').select('details')
        .where('type', '=', 'login.failure').where('occurred_at', '>', new Date(Date.now() - 60_000)).execute();
      assert.ok(failures.some((f) => (f.details as { reason?: string }).reason === 'invalid'), 'login.failure recorded');
    });
  }

  it('a replayed assertion is refused: its challenge was used', async () => {
    const { stored } = await personWithPasskey();
    const page = await signInPage();
    const assertion = authenticatorFor(stored).get(page.options, origin());
    assert.equal((await postAssertion(page, assertion)).status, 303);
    const again = await signInPage();
    const replay = await postAssertion(again, assertion);
    assert.equal(replay.status, 400);
    assert.match(replay.body, /expired/);
  });

  it('a cloned authenticator (counter going backwards) is refused and reported as passkey.clone_suspected', async () => {
    const { accountId, stored } = await personWithPasskey();
    const authenticator = authenticatorFor(stored);
    const first = await signInPage();
    assert.equal((await postAssertion(first, authenticator.get(first.options, origin(), { counter: 7 }))).status, 303);
    const second = await signInPage();
    const cloned = await postAssertion(second, authenticator.get(second.options, origin(), { counter: 3 }));
    assert.equal(cloned.status, 400);
    assert.match(cloned.body, /could not be trusted/);
    const events = await auditTypes(accountId);
    assert.ok(events.some((e) => e.type === 'passkey.clone_suspected'), JSON.stringify(events.map((e) => e.type)));
    const row = await server.app.storage.db.selectFrom('passkeys').select('sign_count').where('account_id', '=', accountId).executeTakeFirstOrThrow();
    assert.equal(Number(row.sign_count), 7, 'the stored counter is not moved back');

    // Either copy could be the attacker's: the passkey is switched off, the owner told.
    const third = await signInPage();
    const genuine = await postAssertion(third, authenticator.get(third.options, origin(), { counter: 9 }));
    assert.equal(genuine.status, 400);
    assert.match(genuine.body, /switched off because a copy of it was detected/);
    const email = (await server.app.accounts.findById(accountId))!.email!;
    let notice;
    for (let i = 0; i < 30 && !notice; i++) {
      notice = (await listMailbox(server.app.storage.db, { to: email, limit: 5 })).find((m) => /switched off/.test(m.text));
      if (!notice) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(notice, 'the owner is told by mail');
  });

  it('a low counter without a valid signature is merely invalid: it names nobody (no false clone alarm)', async () => {
    const { accountId, stored } = await personWithPasskey();
    const authenticator = authenticatorFor(stored);
    const first = await signInPage();
    assert.equal((await postAssertion(first, authenticator.get(first.options, origin(), { counter: 7 }))).status, 303);
    const second = await signInPage();
    const forged = authenticator.get(second.options, origin(), { counter: 3 }) as { response: { signature: string } };
    forged.response.signature = Buffer.from('not a signature').toString('base64url');
    const r = await postAssertion(second, forged);
    assert.equal(r.status, 400);
    assert.match(r.body, /could not be verified/);
    assert.ok(!(await auditTypes(accountId)).some((e) => e.type === 'passkey.clone_suspected'));
  });
});

describe('passkey registration with a misbehaving authenticator', () => {
  it('a credential made for another site is not registered: 400, the page again, an audit event', async () => {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    // A signed-in account (its first passkey) adding a second one on the account page.
    const { accountId, stored } = await personWithPasskey();
    const page = await signInPage(ua);
    assert.equal((await postAssertion(page, authenticatorFor(stored).get(page.options, origin()))).status, 303);
    const add = await (await ua.request(`${server.issuer}/account/passkeys/new`)).text();
    const foreign = createPasskey(optionsOf(add), origin(), { rpId: 'evil.example' }).response;
    const r = await ua.post(`${server.issuer}/account/passkeys/new`, { csrf: csrfOf(add), credential: JSON.stringify(foreign) });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /could not be verified/);
    const rows = await server.app.storage.db.selectFrom('passkeys').select('id').where('account_id', '=', accountId).execute();
    assert.equal(rows.length, 1, 'nothing registered');
    assert.ok((await auditTypes(accountId)).some((e) => e.type === 'passkey.add_failed'));
    // The same ceremony done right is accepted: the refusal was the RP ID.
    const retry = await (await ua.request(`${server.issuer}/account/passkeys/new`)).text();
    const good = createPasskey(optionsOf(retry), origin()).response;
    const ok = await ua.post(`${server.issuer}/account/passkeys/new`, { csrf: csrfOf(retry), credential: JSON.stringify(good) });
    assert.equal(ok.status, 303);
  });
});

describe('re-authentication before a sensitive change', () => {
  it('an account with a passkey must confirm with it: the password alone does not add a passkey', async () => {
    const { accountId, stored } = await personWithPasskey();
    const account = (await server.app.accounts.findById(accountId))!;
    await server.app.accounts.setPassword(accountId, 'a password that was phished');
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const form = await (await ua.request(`${server.issuer}/account/sign-in`)).text();
    const signedIn = await ua.post(`${server.issuer}/account/sign-in/login`, { csrf: csrfOf(form), username: account.username, password: 'a password that was phished' });
    assert.equal(signedIn.headers.get('location'), '/account', 'the password opens the account pages');
    const sensitive = await ua.request(`${server.issuer}/account/passkeys/new`);
    assert.equal(sensitive.headers.get('location'), '/account/sign-in?return=%2Faccount%2Fpasskeys%2Fnew', 'but not a change to the passkeys');
    const confirm = await (await ua.request(`${server.issuer}/account/sign-in?return=%2Faccount%2Fpasskeys%2Fnew`)).text();
    const again = await ua.post(`${server.issuer}/account/sign-in/login`, { csrf: csrfOf(confirm), username: account.username, password: 'a password that was phished' });
    assert.equal(again.headers.get('location'), '/account/sign-in', 'the password is not enough: one more step');
    const step = await (await ua.request(`${server.issuer}/account/sign-in`)).text();
    assert.doesNotMatch(step, /action="\/account\/sign-in\/otp"/, 'no code form: the account has no TOTP');
    assert.equal((await ua.request(`${server.issuer}/account/passkeys/new`)).headers.get('location')?.startsWith('/account/sign-in'), true, 'still not allowed');
    const r = await ua.post(`${server.issuer}/account/sign-in/passkey`, { csrf: csrfOf(step), credential: JSON.stringify(authenticatorFor(stored).get(optionsOf(step), origin())) });
    assert.equal(r.headers.get('location'), '/account/passkeys/new', 'with the passkey, on to the change');
    assert.equal((await ua.request(`${server.issuer}/account/passkeys/new`)).status, 200);
  });
});
