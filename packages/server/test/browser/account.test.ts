/**
 * The account pages in real Chromium with CDP virtual authenticators, as one person's story:
 * sign up without a client, manage passkeys (the last one cannot be removed; a lost phone's
 * passkey can), add a password, sign another browser out, get locked out by someone guessing the
 * password and unlocked by a passkey sign-in, recover the account by e-mail after losing every
 * passkey, and finally delete it. Screenshots of each page go to .screenshots/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { CDPSession, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.ts';
import { accessibilityProblems, BROWSER_SKIP, launchBrowser } from '../support/browser.ts';
import { listMailbox } from '../../src/mail/mailer.ts';

const SHOTS = new URL('../../../../.screenshots/', import.meta.url).pathname;
const PASSWORD = 'a long and memorable passphrase';

describe('the account pages in Chromium', { skip: BROWSER_SKIP }, () => {
  let server: TestServer;
  /** The person's own laptop, with a platform authenticator. */
  let laptop: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  /** Another browser (a shared computer), signed in with the password. */
  let other: Awaited<ReturnType<typeof launchBrowser>>;
  let otherPage: Page;
  const email = `kenji.${Date.now()}@example.jp`;
  const url = (path: string) => `${server.issuer}${path}`;

  async function addAuthenticator(cdpSession: CDPSession) {
    const { authenticatorId: id } = await cdpSession.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    return id;
  }
  /** The newest code mailed to an address (recovery mails go out in the background: wait for it). */
  async function codeFrom(to: string, subject = /code/) {
    for (let i = 0; i < 50; i++) {
      const [mail] = await listMailbox(server.app.storage.db, { to, limit: 1 });
      const code = mail && subject.test(mail.subject) ? /(\d{6})/.exec(mail.text)?.[1] : undefined;
      if (code) return code;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no code mailed to ${to}`);
  }
  /** A screenshot to look at, and the accessibility basics checked on the same page. */
  async function shot(p: Page, name: string) {
    await p.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
    assert.deepEqual(await accessibilityProblems(p), [], `${name}: ${p.url()}`);
  }
  const account = async () => (await server.app.accounts.findByEmail(email))!;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer({ https: false });
    laptop = await launchBrowser();
    page = await laptop.context.newPage();
    cdp = await laptop.context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    authenticatorId = await addAuthenticator(cdp);
    other = await launchBrowser();
    otherPage = await other.context.newPage();
  });
  after(async () => {
    await laptop?.close();
    await other?.close();
    await server?.close();
  });

  it('signs up on its own (no client) and lands on the account page', async () => {
    await page.goto(url('/signup'));
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Your name (optional)').fill('Kenji Sato');
    await page.getByRole('button', { name: 'Send the code' }).click();
    await page.getByLabel('Code from the e-mail').fill(await codeFrom(email));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await page.getByRole('heading', { name: 'Your account is ready' }).waitFor();
    await page.goto(url('/account'));
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    assert.equal(await page.getByLabel('Name').inputValue(), 'Kenji Sato');
    await shot(page, 'account-en');
    await page.goto(url('/account?lang=ja'));
    await page.getByRole('heading', { name: 'アカウント', exact: true }).waitFor();
    await shot(page, 'account-ja');
    await page.goto(url('/account?lang=en'));
  });

  it('refuses to remove the only passkey; adds a second one; removes the lost phone’s', async () => {
    await page.goto(url('/account/security'));
    await page.getByRole('button', { name: /^Remove the passkey/ }).click();
    await page.getByRole('alert').filter({ hasText: 'only way to sign in' }).waitFor();
    assert.equal((await server.app.storage.db.selectFrom('passkeys').select('id').where('account_id', '=', (await account()).id).execute()).length, 1);

    // Name the first one, then "lose" it: its authenticator is gone, a new one takes its place.
    await page.getByLabel('Passkey name').fill('Old phone');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('status').filter({ hasText: 'renamed' }).waitFor();
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    authenticatorId = await addAuthenticator(cdp);

    await page.getByRole('link', { name: 'Add a passkey' }).click();
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await page.getByRole('status').filter({ hasText: 'The passkey was added' }).waitFor();
    assert.equal(await page.getByRole('listitem').filter({ has: page.getByRole('button', { name: 'Rename' }) }).count(), 2);
    await shot(page, 'account-security-en');
    await page.goto(url('/account/security?lang=ja'));
    await shot(page, 'account-security-ja');
    await page.goto(url('/account/security?lang=en'));
    const [added] = await listMailbox(server.app.storage.db, { to: email, limit: 1 });
    assert.match(added!.subject, /A passkey was added/);

    await page.getByRole('button', { name: 'Remove the passkey “Old phone”' }).click();
    await page.getByRole('status').filter({ hasText: 'The passkey was removed' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Remove the passkey/ }).count(), 1);
  });

  it('adds a password, and signs another browser out from the devices page', async () => {
    await page.getByRole('link', { name: 'Create a password' }).click();
    await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('New password again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'password was saved' }).waitFor();
    await page.goto(url('/account/totp'));
    await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    await shot(page, 'account-totp-en');

    await otherPage.goto(url('/account'));
    await otherPage.getByLabel('Username or e-mail address').fill(email);
    await otherPage.getByLabel('Password').fill(PASSWORD);
    await otherPage.getByRole('button', { name: 'Sign in', exact: true }).click();
    await otherPage.getByRole('heading', { name: 'Your account' }).waitFor();

    await page.goto(url('/account/activity'));
    const rows = page.locator('#sessions tbody tr');
    assert.equal(await rows.count(), 2);
    await shot(page, 'account-activity-en');
    await rows.filter({ hasNotText: 'This device' }).getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('status').filter({ hasText: 'That device was signed out' }).waitFor();
    assert.equal(await rows.count(), 1);
    await otherPage.goto(url('/account'));
    await otherPage.getByText('Sign in to manage your account.').waitFor();
  });

  it('a password guesser locks the password out (429); the person’s passkey sign-in still works and unlocks it', async () => {
    for (let i = 0; i < 5; i++) {
      await otherPage.getByLabel('Username or e-mail address').fill(email);
      await otherPage.getByLabel('Password').fill(`guess ${i}`);
      await otherPage.getByRole('button', { name: 'Sign in', exact: true }).click();
      await otherPage.getByRole('alert').waitFor();
    }
    await otherPage.getByLabel('Username or e-mail address').fill(email);
    await otherPage.getByLabel('Password').fill(PASSWORD);
    const locked = otherPage.waitForResponse((r) => r.url().endsWith('/account/sign-in/login'));
    await otherPage.getByRole('button', { name: 'Sign in', exact: true }).click();
    assert.equal((await locked).status(), 429, 'even the right password is refused while locked');
    await otherPage.getByRole('alert').filter({ hasText: 'Too many attempts' }).waitFor();
    await shot(otherPage, 'account-locked-en');

    // The person signs out and back in with the passkey: the lock is lifted.
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
    await page.getByRole('navigation').getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('status').filter({ hasText: 'You are signed out.' }).waitFor();
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    const history = await page.goto(url('/account/activity')).then(() => page.locator('#history tbody tr').allTextContents());
    assert.ok(history.some((row) => row.includes('Blocked')), 'the blocked attempts are in the history the person reads');

    await otherPage.getByLabel('Username or e-mail address').fill(email);
    await otherPage.getByLabel('Password').fill(PASSWORD);
    await otherPage.getByRole('button', { name: 'Sign in', exact: true }).click();
    await otherPage.getByRole('heading', { name: 'Your account' }).waitFor();
  });

  it('recovers the account by e-mail after losing every passkey: a new passkey, every other device signed out, a notice', async () => {
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    authenticatorId = await addAuthenticator(cdp);
    await laptop.context.clearCookies();
    await page.goto(url('/account'));
    await page.getByRole('link', { name: 'Can’t sign in?' }).click();
    await page.getByLabel('E-mail address').fill(email);
    await page.getByRole('button', { name: 'Send the code' }).click();
    await page.getByLabel('Code from the e-mail').fill(await codeFrom(email, /recovery code/));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Create your new passkey' }).waitFor();
    await shot(page, 'recover-passkey-en');
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await page.getByRole('status').filter({ hasText: 'Your account is recovered' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Remove the passkey/ }).count(), 2);

    await otherPage.goto(url('/account'));
    await otherPage.getByText('Sign in to manage your account.').waitFor();
    const recent = await listMailbox(server.app.storage.db, { to: email, limit: 3 });
    assert.ok(recent.some((m) => /Your account was recovered/.test(m.subject)), recent.map((m) => m.subject).join('; '));
  });

  it('deletes the account after the address is typed out', async () => {
    await page.goto(url('/account'));
    await page.getByRole('link', { name: 'Delete your account' }).click();
    await page.getByLabel(`To confirm, type ${email}`).fill(email);
    await shot(page, 'account-delete-en');
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByRole('heading', { name: 'Your account was deleted' }).waitFor();
    assert.equal(await server.app.accounts.findByEmail(email), undefined);
  });
});

