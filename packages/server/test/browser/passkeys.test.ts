/**
 * Passkeys in real Chromium with a CDP virtual authenticator (WebAuthn.addVirtualAuthenticator):
 * sign-up from a client's sign-in page (e-mail code from the development mailbox, then a passkey),
 * passkey sign-in, and step-up from a password to the passkey when the client asks for AAL3.
 * Each ends with the client (oauth4webapi) redeeming the code, and the ID token's acr/amr must
 * say what the person actually did. The server is http://localhost: a secure context for
 * WebAuthn without certificate errors (Chromium refuses WebAuthn on pages with TLS errors).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { decodeJwt } from 'jose';
import type { CDPSession, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient, type TestClient } from '../support/clients.ts';
import { discover, pushAuthorizationRequest, redeemCallback } from '../support/flow.ts';
import { BROWSER_SKIP, launchBrowser } from '../support/browser.ts';
import { listMailbox } from '../../src/mail/mailer.ts';

const SHOTS = new URL('../../../../.screenshots/', import.meta.url).pathname;
const AAL2 = 'urn:sekisho:aal2';
const AAL3 = 'urn:sekisho:aal3';

describe('passkeys in Chromium (virtual authenticator)', { skip: BROWSER_SKIP }, () => {
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  let tc: TestClient;
  const email = `hanako.${Date.now()}@example.jp`;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer({ https: false });
    tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    cdp = await browser.context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    // A platform authenticator that keeps its keys on the device (not synced): AAL3 with UV.
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    }));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function startFlow(extra: Record<string, string> = {}) {
    const as = await discover(server, tc);
    const par = await pushAuthorizationRequest(as, tc, extra);
    // This flow's own redirect (its state): a request the previous flow's error page makes to the
    // client's host (a favicon, a reload) must not be taken for it (a CI flake: a callback without parameters).
    const toClient = page.waitForRequest((r) => r.url().startsWith('https://client.example.com/')
      && new URL(r.url()).searchParams.get('state') === par.state, { timeout: 20_000 });
    return { as, par, toClient };
  }
  async function finishAtClient(flow: Awaited<ReturnType<typeof startFlow>>) {
    const callback = (await flow.toClient).url();
    // The client's host does not resolve: let Chromium's error page settle so it cannot interrupt the next test's navigation.
    await page.waitForURL((u) => u.protocol === 'chrome-error:', { waitUntil: 'commit', timeout: 5000 }).catch(() => {});
    const tokens = await redeemCallback(flow.as, tc, flow.par, callback);
    return decodeJwt(String(tokens.id_token));
  }
  /** Opens an authorization URL; with single sign-on it goes straight on to the client (which does not resolve). */
  async function open(url: string) {
    await page.goto(url).catch((err: Error) => { if (!/interrupted by another navigation|ERR_NAME_NOT_RESOLVED/.test(err.message)) throw err; });
  }
  async function allowIfAsked() {
    const allow = page.getByRole('button', { name: 'Allow', exact: true });
    await allow.waitFor({ timeout: 5000 }).then(async () => {
      const ongoing = page.getByLabel(/^(Ongoing access|Remember this consent) until a date you choose/);
      if (await ongoing.count()) await ongoing.check();
      await allow.click();
    }, () => {});
  }

  it('signs up from the sign-in page: e-mail code, then a passkey; the ID token says AAL3, hwk', async () => {
    const flow = await startFlow();
    await page.goto(flow.par.authorizationUrl);
    await page.screenshot({ path: `${SHOTS}passkey-signin-en.png`, fullPage: true });
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Your name (optional)').fill('Hanako Yamada');
    await page.screenshot({ path: `${SHOTS}signup-en.png`, fullPage: true });
    await page.getByRole('button', { name: 'Send the code' }).click();
    await page.getByRole('heading', { name: 'Check your e-mail' }).waitFor();

    const [mail] = await listMailbox(server.app.storage.db, { to: email, limit: 1 });
    const code = /(\d{6})/.exec(mail?.text ?? '')?.[1];
    assert.ok(code, 'the development mailbox has the code');

    await page.getByLabel('Code from the e-mail').fill(code === '000000' ? '000001' : '000000');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('alert').filter({ hasText: 'not correct' }).waitFor();
    await page.getByLabel('Code from the e-mail').fill(code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Create your passkey' }).waitFor();
    await page.screenshot({ path: `${SHOTS}signup-passkey-en.png`, fullPage: true });
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await allowIfAsked();
    const claims = await finishAtClient(flow);
    assert.equal(claims.acr, AAL3);
    assert.deepEqual([...(claims.amr as string[])].sort(), ['hwk', 'mfa', 'user']);

    const account = await server.app.accounts.findByEmail(email);
    assert.ok(account, 'the account exists');
    assert.equal(account.hasPassword, false, 'passkey-first: no password');
  });

  it('signs in with the passkey through autofill (the session is gone): no username, no password', async () => {
    await browser.context.clearCookies();
    const flow = await startFlow();
    await open(flow.par.authorizationUrl);
    // Nothing to click: the page's autofill request (conditional mediation) is answered by the
    // authenticator, as when a person picks the passkey from the username field's suggestions.
    await allowIfAsked();
    const claims = await finishAtClient(flow);
    assert.equal(claims.acr, AAL3);
    assert.ok((claims.amr as string[]).includes('hwk'));
  });

  it('steps up from a password to the passkey when the client asks for AAL3', async () => {
    const account = (await server.app.accounts.findByEmail(email))!;
    await server.app.accounts.setPassword(account.id, 'correct horse battery staple');
    await browser.context.clearCookies();

    // First a password sign-in (AAL1) for a client that asks nothing special. The authenticator
    // does not answer meanwhile, so the page's autofill request stays pending (nobody picked it).
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
    const first = await startFlow();
    await page.goto(first.par.authorizationUrl);
    await page.getByLabel('Username or e-mail address').fill(email);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await allowIfAsked();
    const firstClaims = await finishAtClient(first);
    assert.equal(firstClaims.acr, 'urn:sekisho:aal1');
    assert.deepEqual(firstClaims.amr, ['pwd']);

    // Then a request for AAL3: the same session is asked for the passkey, not a new sign-in.
    const second = await startFlow({ acr_values: AAL3 });
    await page.goto(second.par.authorizationUrl);
    await page.getByRole('heading', { name: 'Confirm it’s you' }).waitFor();
    await page.screenshot({ path: `${SHOTS}step-up-en.png`, fullPage: true });
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    await page.getByRole('button', { name: 'Confirm with your passkey' }).click();
    await allowIfAsked();
    const claims = await finishAtClient(second);
    assert.equal(claims.acr, AAL3);
    assert.deepEqual([...(claims.amr as string[])].sort(), ['hwk', 'mfa', 'pwd', 'user']);

    // And a request for AAL2 is now met by the session without any page.
    const third = await startFlow({ acr_values: AAL2 });
    await open(third.par.authorizationUrl);
    await allowIfAsked();
    const thirdClaims = await finishAtClient(third);
    assert.equal(thirdClaims.acr, AAL3, 'the session\'s actual level, which satisfies AAL2');
  });

  // Regression: the provider's account-switch page (an auto-submitting form) was blocked by our
  // CSP, and sign-up on a signed-in browser could never finish.
  it('a sign-up on a browser still signed in as someone else ends signed in as the new account', async () => {
    const previous = (await server.app.accounts.findByEmail(email))!;
    const other = `taro.${Date.now()}@example.jp`;
    const flow = await startFlow({ prompt: 'login' });
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
    await page.goto(flow.par.authorizationUrl);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('E-mail address').fill(other);
    await page.getByRole('button', { name: 'Send the code' }).click();
    await page.getByRole('heading', { name: 'Check your e-mail' }).waitFor();
    const [mail] = await listMailbox(server.app.storage.db, { to: other, limit: 1 });
    await page.getByLabel('Code from the e-mail').fill(/(\d{6})/.exec(mail!.text)![1]!);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Create your passkey' }).waitFor();
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await allowIfAsked();
    const claims = await finishAtClient(flow);
    const created = (await server.app.accounts.findByEmail(other))!;
    assert.equal(claims.sub, created.id);
    assert.notEqual(claims.sub, previous.id);
  });
});
