/**
 * The identity pages over HTTP with bad and hostile input: throttling through the sign-in form,
 * malformed passkey responses, and sign-up's refusals. Never a 500.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startTestServer, type TestServer } from './support/server.ts';
import { registerTestClient } from './support/clients.ts';
import { discover, pushAuthorizationRequest } from './support/flow.ts';
import { createUserAgent } from './support/user-agent.ts';
import { createTestUser, type TestUser } from './support/users.ts';
import { listMailbox } from '../src/mail/mailer.ts';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.close());

async function signInPage() {
  const tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
  const par = await pushAuthorizationRequest(await discover(server, tc), tc);
  const ua = createUserAgent(server.dispatcher(), server.issuer);
  const first = await ua.request(par.authorizationUrl);
  const url = new URL(first.headers.get('location')!, server.issuer).toString();
  const body = await (await ua.request(url)).text();
  return { ua, url, csrf: /name="csrf" value="([^"]+)"/.exec(body)![1]! };
}

describe('sign-in throttling through the form', () => {
  let user: TestUser;
  before(async () => { user = await createTestUser(server); });

  it('five wrong passwords lock the account: the right one is then refused with 429 and Retry-After; a passkey is still offered', async () => {
    const { ua, url, csrf } = await signInPage();
    for (let i = 0; i < 5; i++) {
      const r = await ua.post(`${url}/login`, { username: user.username, password: `wrong ${i}`, csrf });
      await r.text();
      assert.equal(r.status, 401, `attempt ${i + 1}`);
    }
    const locked = await ua.post(`${url}/login`, { username: user.username, password: user.password, csrf });
    const body = await locked.text();
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    assert.match(body, /Too many attempts/);
    assert.match(body, /id="webauthn-options"/, 'the passkey sign-in stays available while passwords are locked');
    const history = await server.app.storage.db.selectFrom('login_history').select(['result']).where('account_id', '=', user.id).execute();
    assert.deepEqual(history.map((h) => h.result).sort(), ['failure', 'failure', 'failure', 'failure', 'locked', 'locked']);
  });
});

describe('passkey responses that are not passkey responses', () => {
  for (const [name, credential] of [
    ['not JSON', '{nope'],
    ['JSON without an id', '{"type":"public-key"}'],
    ['an unknown credential id', JSON.stringify({ id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'x', authenticatorData: 'x', signature: 'x' } })],
    ['an empty value', ''],
    ['an oversized value', 'x'.repeat(20_000)],
  ] as const) {
    it(`${name} → 4xx with the sign-in page, never 500`, async () => {
      const { ua, url, csrf } = await signInPage();
      const r = await ua.post(`${url}/passkey`, { csrf, credential });
      const body = await r.text();
      assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${body.slice(0, 200)}`);
    });
  }
});

describe('sign-up refusals', () => {
  async function signupForm(ua = createUserAgent(server.dispatcher(), server.issuer), target = server) {
    const res = await ua.request(`${target.issuer}/signup`);
    const body = await res.text();
    assert.equal(res.status, 200);
    return { ua, csrf: /name="csrf" value="([^"]+)"/.exec(body)![1]! };
  }

  it('an invalid address → 400 with the form again; nothing is sent', async () => {
    const { ua, csrf } = await signupForm();
    const r = await ua.post(`${server.issuer}/signup`, { csrf, email: 'not an address', name: 'x' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /valid e-mail address/);
  });

  it('without the CSRF token → 403', async () => {
    const { ua } = await signupForm();
    const r = await ua.post(`${server.issuer}/signup`, { email: 'a@example.jp' });
    assert.equal(r.status, 403);
  });

  it('later steps without a sign-up in progress go back to the start', async () => {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    for (const path of ['/signup/verify', '/signup/passkey']) {
      const r = await ua.request(`${server.issuer}${path}`);
      assert.equal(r.status, 303, path);
      assert.equal(r.headers.get('location'), '/signup');
    }
  });

  it('a known address gets the same page as a new one (the mail differs, with no code)', async () => {
    const known = await createTestUser(server);
    await server.app.storage.db.updateTable('accounts').set({ email: 'known@example.jp' }).where('id', '=', known.id).execute();
    const pages: string[] = [];
    for (const email of ['known@example.jp', 'new-person@example.jp']) {
      const { ua, csrf } = await signupForm();
      const r = await ua.post(`${server.issuer}/signup`, { csrf, email, name: '' });
      assert.equal(r.status, 303);
      assert.equal(r.headers.get('location'), '/signup/verify');
      // Each flow has its own CSRF token; nothing else may differ.
      pages.push((await (await ua.request(`${server.issuer}/signup/verify`)).text()).replace(email, 'X').replace(/name="csrf" value="[^"]+"/, 'csrf'));
    }
    assert.equal(pages[0], pages[1]);
    const [toKnown] = await listMailbox(server.app.storage.db, { to: 'known@example.jp', limit: 1 });
    const [toNew] = await listMailbox(server.app.storage.db, { to: 'new-person@example.jp', limit: 1 });
    assert.doesNotMatch(toKnown!.text, /\b\d{6}\b/, 'no code for an address that has an account');
    assert.match(toNew!.text, /\b\d{6}\b/);
  });

  it('when the mail server cannot be reached → 503 with a message, not a server error', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
    });
    const mailless = await startTestServer({ config: { mail: { smtp: { host: '127.0.0.1', port: closed } } } });
    try {
      const { ua, csrf } = await signupForm(createUserAgent(mailless.dispatcher(), mailless.issuer), mailless);
      const r = await ua.post(`${mailless.issuer}/signup`, { csrf, email: 'someone@example.jp', name: '' });
      assert.equal(r.status, 503);
      assert.match(await r.text(), /could not send the e-mail/);
    } finally {
      await mailless.close();
    }
  });
});
