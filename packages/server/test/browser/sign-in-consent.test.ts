/**
 * Sign-in and consent in real Chromium: the forms work with the page's own CSP (form-action must
 * allow the redirect back to the client), the language follows the browser and the switch, and
 * the result is a code at the client's redirect URI. Screenshots go to .screenshots/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient } from '../support/clients.ts';
import { discover, pushAuthorizationRequest } from '../support/flow.ts';
import { createTestUser, type TestUser } from '../support/users.ts';
import { accessibilityProblems, BROWSER_SKIP, launchBrowser } from '../support/browser.ts';

const SHOTS = new URL('../../../../.screenshots/', import.meta.url).pathname;

describe('sign-in and consent in Chromium', { skip: BROWSER_SKIP }, () => {
  let server: TestServer;
  let user: TestUser;
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    user = await createTestUser(server);
  });
  after(() => server?.close());

  for (const locale of ['en-US', 'ja-JP']) {
    it(`completes sign-in and consent (${locale})`, async () => {
      const tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
      const as = await discover(server, tc);
      const par = await pushAuthorizationRequest(as, tc);
      const browser = await launchBrowser({ locale });
      try {
        const page = await browser.context.newPage();
        const violations: string[] = [];
        page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
        // The client's redirect URI is not a real site: capture the navigation to it. (Request
        // interception is avoided on purpose: it stalls Chromium's client-certificate handshake.)
        const toClient = page.waitForRequest((r) => r.url().startsWith('https://client.example.com/'));
        await page.goto(par.authorizationUrl);
        const ja = locale.startsWith('ja');
        assert.equal(await page.getAttribute('html', 'lang'), ja ? 'ja' : 'en');
        await page.screenshot({ path: `${SHOTS}login-${locale}.png`, fullPage: true });
        await page.getByLabel(ja ? 'ユーザー名' : 'Username').fill(user.username);
        await page.getByLabel(ja ? 'パスワード' : 'Password').fill('wrong password');
        await page.getByRole('button', { name: ja ? 'ログイン' : 'Sign in', exact: true }).click();
        await page.getByRole('alert').waitFor();
        await page.screenshot({ path: `${SHOTS}login-error-${locale}.png`, fullPage: true });
        await page.getByLabel(ja ? 'パスワード' : 'Password').fill(user.password);
        await page.getByRole('button', { name: ja ? 'ログイン' : 'Sign in', exact: true }).click();
        await page.getByRole('heading', { name: ja ? 'アクセスを許可しますか？' : 'Allow access?' }).waitFor();
        await page.screenshot({ path: `${SHOTS}consent-${locale}.png`, fullPage: true });
        // How long is a choice the person makes: nothing is chosen for them.
        await page.getByLabel(ja ? /お客さまが選ぶ日まで/ : /^(Ongoing access|Remember this consent) until a date you choose/).check();
        await page.getByRole('button', { name: ja ? '許可する' : 'Allow' }).click();
        const url = new URL((await toClient).url());
        assert.ok(url.searchParams.get('code'));
        assert.equal(url.searchParams.get('iss'), server.issuer);
        assert.equal(url.searchParams.get('state'), par.state);
        assert.deepEqual(violations, [], 'no CSP violations');

        // The same browser (signed in) finds the consent on its consents page and withdraws it.
        await page.waitForURL((u) => u.protocol === 'chrome-error:', { waitUntil: 'commit', timeout: 5000 }).catch(() => {});
        await page.goto(`${server.issuer}/account/consents`);
        await page.getByRole('heading', { name: ja ? '同意の履歴' : 'Consent history' }).waitFor();
        await page.screenshot({ path: `${SHOTS}consents-${locale}.png`, fullPage: true });
        assert.deepEqual(await accessibilityProblems(page), []);
        await page.getByRole('button', { name: ja ? /のアクセスを取り消す$/ : /^Withdraw the access of/ }).click();
        await page.getByRole('status').waitFor();
        const [newest, before] = await page.locator('#consent-history tbody tr').allTextContents();
        assert.match(newest!, ja ? /取り消し/ : /Withdrawn/, 'the withdrawal is the newest record');
        assert.match(before!, ja ? /許可/ : /Allowed/, 'after the approval');
        await page.screenshot({ path: `${SHOTS}consents-withdrawn-${locale}.png`, fullPage: true });
      } finally {
        await browser.close();
      }
    });
  }

  it('Cancel at sign-in returns access_denied to the client', async () => {
    const tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
    const par = await pushAuthorizationRequest(await discover(server, tc), tc);
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      const toClient = page.waitForRequest((r) => r.url().startsWith('https://client.example.com/'));
      await page.goto(par.authorizationUrl);
      await page.getByRole('button', { name: 'Cancel and return to the service' }).click();
      const url = new URL((await toClient).url());
      assert.equal(url.searchParams.get('error'), 'access_denied');
      assert.equal(url.searchParams.get('iss'), server.issuer);
    } finally {
      await browser.close();
    }
  });
});
