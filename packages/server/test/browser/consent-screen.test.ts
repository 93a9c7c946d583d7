/**
 * The consent screen and My consents in real Chromium, in English and Japanese: a client with a
 * published notice asks to read a person's bank accounts (RAR account_information) and, as an
 * option, their e-mail address. Nothing is ticked for the person; Deny is as large as Allow; they
 * pick one of their two accounts, leave the e-mail out, choose ongoing access for a shorter time,
 * and find that consent in words on My consents, where they bring its end forward and withdraw
 * the account. Screenshots of each step go to .screenshots/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient } from '../support/clients.ts';
import { discover, pushAuthorizationRequest } from '../support/flow.ts';
import { createTestUser } from '../support/users.ts';
import { accessibilityProblems, BROWSER_SKIP, launchBrowser } from '../support/browser.ts';
import { createConsentNotices } from '../../src/consent/notices.ts';
import { createLinkedResources } from '../../src/identity/linked-resources.ts';

const SHOTS = new URL('../../../../.screenshots/', import.meta.url).pathname;
const DAY = 86_400_000;
const BANK = 'https://bank.example/api';
const MAIN = '普通 ****4567 (Main)';
const SAVINGS = '貯蓄 ****4321 (Savings)';
const ACCOUNT_INFO = [{ type: 'account_information', actions: ['list_accounts', 'read_balances', 'read_transactions'], transaction_history_days: 90 }];

/** The example of docs/consent-notices.md, its data items fitted to what this client asks for. */
const NOTICE = {
  serviceName: { ja: 'かけいぼ日和', en: 'Kakeibo Biyori' },
  legalName: { ja: '株式会社ひより家計研究所', en: 'Hiyori Household Finance Lab Inc.' },
  registrationNumber: '電子決済等代行業 関東財務局長（電代業）第1号',
  contact: 'privacy@kakeibo-biyori.example.jp',
  purposes: [
    { id: 'household-book', text: { ja: '口座の残高と入出金明細を家計簿に自動で取り込み、収支を表示するため', en: 'To import your balances and transactions into your household book and show your income and spending' } },
    { id: 'alerts', text: { ja: '引き落とし日の前に残高不足などをメールでお知らせするため', en: 'To e-mail you before a debit date, for example when your balance is too low' } },
  ],
  data: [
    { item: 'scope:openid', purposes: ['household-book'], optional: false },
    { item: 'authorization_details:account_information', purposes: ['household-book'], optional: false },
    { item: 'scope:email', purposes: ['alerts'], optional: true },
  ],
  recipients: [],
  retention: { ja: '連携を解除した日、または最後にご利用になった日から 1 年後に削除します。', en: 'Deleted one year after you disconnect your bank or last use the app, whichever comes first.' },
  keepsData: true,
  jurisdiction: 'JP',
  policyUri: 'https://kakeibo-biyori.example.jp/privacy',
};

describe('the consent screen and My consents in Chromium', { skip: BROWSER_SKIP }, () => {
  let server: TestServer;
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // RAR needs the API the token is for (RFC 8707); otherwise the default test server.
    server = await startTestServer({ config: { resourceServers: [{ identifier: BANK, scopes: ['accounts'], accessTokenFormat: 'opaque' }] } });
  });
  after(() => server?.close());
  /** What each locale's screen shows for the detail's specifics (checked by the last test). */
  const detailTexts: string[] = [];

  /** A screenshot to look at, and the accessibility basics checked on the same page. */
  async function shot(page: Page, name: string) {
    await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
    assert.deepEqual(await accessibilityProblems(page), [], `${name}: ${page.url()}`);
  }

  for (const locale of ['en-US', 'ja-JP']) {
    it(`asks with nothing ticked, grants the account picked, and shows it on My consents (${locale})`, async () => {
      const ja = locale.startsWith('ja');
      const tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', metadata: { authorization_details_types: ['account_information'] } });
      await createConsentNotices(server.app.storage.db, { cacheSeconds: 0 }).publish(tc.clientId, NOTICE);
      const user = await createTestUser(server);
      const linked = createLinkedResources(server.app.storage.db);
      await linked.add({ accountId: user.id, kind: 'bank_account', ref: '0001-001-1234567', label: MAIN });
      await linked.add({ accountId: user.id, kind: 'bank_account', ref: '0001-001-7654321', label: SAVINGS });
      const par = await pushAuthorizationRequest(await discover(server, tc), tc, { scope: 'openid email offline_access', resource: BANK, authorization_details: JSON.stringify(ACCOUNT_INFO) });

      const browser = await launchBrowser({ locale });
      try {
        const page = await browser.context.newPage();
        const toClient = page.waitForRequest((r) => r.url().startsWith('https://client.example.com/'));
        await page.goto(par.authorizationUrl);
        await page.getByLabel(ja ? 'ユーザー名' : 'Username').fill(user.username);
        await page.getByLabel(ja ? 'パスワード' : 'Password').fill(user.password);
        await page.getByRole('button', { name: ja ? 'ログイン' : 'Sign in', exact: true }).click();
        await page.getByRole('heading', { name: ja ? 'アクセスを許可しますか？' : 'Allow access?' }).waitFor();

        // Nothing is chosen for the person, and refusing is as easy to see as allowing.
        assert.equal(await page.locator('input:checked').count(), 0, 'nothing pre-ticked');
        const deny = await page.getByRole('button', { name: ja ? '拒否する' : 'Deny', exact: true }).boundingBox();
        const allow = await page.getByRole('button', { name: ja ? '許可する' : 'Allow', exact: true }).boundingBox();
        assert.ok(deny && allow);
        assert.ok(Math.abs(deny.width - allow.width) < 1 && Math.abs(deny.height - allow.height) < 1, `Deny ${deny.width}x${deny.height}, Allow ${allow.width}x${allow.height}`);
        assert.match(await page.locator('main').innerText(), ja ? /かけいぼ日和/ : /Kakeibo Biyori/, 'the notice names the service');
        detailTexts.push(await page.locator('.detail').first().innerText());
        await shot(page, `consent-screen-${locale}`);

        await page.getByLabel(MAIN).check();
        assert.equal(await page.getByLabel(ja ? /メールアドレスの参照/ : /See your e-mail address/).isChecked(), false, 'the e-mail stays out');
        await page.getByLabel(ja ? /お客さまが選ぶ日まで/ : /^Ongoing access until a date you choose/).check();
        await page.locator('select[name=expires_days]').selectOption('30');
        await shot(page, `consent-screen-chosen-${locale}`);
        await page.getByRole('button', { name: ja ? '許可する' : 'Allow', exact: true }).click();
        const callback = new URL((await toClient).url());
        assert.ok(callback.searchParams.get('code'), 'the client gets a code');
        assert.equal(callback.searchParams.get('state'), par.state);

        // The same browser, on My consents: the account in words, and when the access ends.
        await page.waitForURL((u) => u.protocol === 'chrome-error:', { waitUntil: 'commit', timeout: 5000 }).catch(() => {});
        await page.goto(`${server.issuer}/account/consents`);
        const grant = page.locator('#grants > li');
        await grant.first().waitFor();
        assert.equal(await grant.count(), 1);
        const text = await grant.innerText();
        assert.match(text, ja ? /口座情報の参照（普通 \*\*\*\*4567 \(Main\)）/ : /See your account information \(普通 \*\*\*\*4567 \(Main\)\)/);
        assert.doesNotMatch(text, /Savings|0001-001/, 'only the account picked, and never its number');
        assert.doesNotMatch(text, ja ? /メールアドレス/ : /e-mail/, 'the e-mail was left out');
        assert.match(text, ja ? /継続的なアクセス/ : /Ongoing access/);
        const ends = async () => (await grant.locator('time').evaluateAll((els) => els.map((e) => e.getAttribute('datetime') ?? '')))
          .map((d) => Date.parse(d)).filter((d) => d > Date.now() + DAY / 2);
        const [end] = await ends();
        assert.ok(end && Math.abs(end - (Date.now() + 30 * DAY)) < 10 * 60_000, 'ends in the 30 days chosen');
        await shot(page, `my-consents-${locale}`);

        // Bring the end forward, with the form on the page.
        await page.getByLabel(ja ? '期限を早める：' : 'End it sooner:').selectOption('7');
        await page.getByRole('button', { name: ja ? /のアクセス期限を変更する$/ : /^Change when the access of .* ends$/ }).click();
        await page.getByRole('status').waitFor();
        const [shorter] = await ends();
        assert.ok(shorter && Math.abs(shorter - (Date.now() + 7 * DAY)) < 10 * 60_000, 'now ends in 7 days');
        await shot(page, `my-consents-shortened-${locale}`);
        // On a phone the grant's actions wrap under each other rather than run off the card.
        await page.setViewportSize({ width: 390, height: 844 });
        await shot(page, `my-consents-phone-${locale}`);
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'nothing wider than the phone');
        await page.setViewportSize({ width: 1280, height: 720 });

        // The account is the only data this consent reaches (e-mail was left out): withdrawing it
        // alone would leave ongoing access to nothing, so the page says to withdraw the whole.
        await page.getByRole('button', { name: ja ? /「口座情報の参照（普通.*」を取り消す$/ : /^Withdraw “See your account information \(普通/ }).click();
        await page.getByRole('alert').waitFor();
        assert.match(await page.getByRole('alert').innerText(), ja ? /アクセス全体を取り消してください/ : /Withdraw its whole access instead/);
        assert.match(await page.locator('#grants').innerText(), /4567/, 'nothing was withdrawn');
        await shot(page, `my-consents-withdrawn-${locale}`);

        // Then the whole consent: it moves to the ended ones, kept visible without buttons.
        await page.getByRole('button', { name: ja ? /のアクセスを取り消す$/ : /^Withdraw the access of/ }).click();
        await page.getByRole('status').waitFor();
        const ended = page.locator('#ended-grants > li');
        assert.equal(await ended.count(), 1);
        assert.match(await ended.innerText(), ja ? /お客さまが取り消し/ : /Withdrawn by you/);
        assert.equal(await ended.locator('button').count(), 0);
        await shot(page, `my-consents-ended-${locale}`);
      } finally {
        await browser.close();
      }
    });
  }

  // Regression: consent-page.ts once put type.render() (a string) into html``, which escaped it,
  // so the screen showed "<dl class="facts">…" as text instead of what the detail reads.
  it('shows what a detail reads as a list, not as HTML source', () => {
    assert.equal(detailTexts.length, 2);
    for (const text of detailTexts) assert.doesNotMatch(text, /<dl|<li>/);
  });
});
