/**
 * The open-banking scenario end to end in Debian Chromium, with the real apps (examples/bank) and
 * a real Sekisho: a person at the fintech app connects their bank account (FAPI 2.0 Message
 * Signing: PAR with a signed request object, PKCE, DPoP, JARM, private_key_jwt), signs in at
 * Sekisho with their password and picks one of their two accounts on the consent screen; the app
 * shows its balance and transactions; they send money with a one-time consent, picking the
 * account to pay from; then they disconnect, and Sekisho's My consents shows the consent ended by
 * the service. One story, in order. Screenshots go to .screenshots/ (bank-*.png), Sekisho's pages
 * in Japanese and English; the fintech's pages are Japanese with English under each line.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { SAMPLE_LABELS, SAMPLE_REFS } from '../../../../examples/bank/src/sample-accounts.ts';
import { BROWSER_SKIP } from '../support/browser.ts';
import { openBrowser, shot as screenshot, type PersonBrowser } from '../support/person-browser.ts';
import { startBankScenario, type BankScenario } from '../support/bank-scenario.ts';
import {
  allowAndSeeAccounts, approveAtTheBank, chooseConnect, disconnect, fillTransfer, payFrom, pickAccount, signInWithPassword, TRANSFER,
} from '../support/bank-browser.ts';
import type { TestUser } from '../support/users.ts';

const EVERYDAY = SAMPLE_LABELS[SAMPLE_REFS.hanakoMain]!;
const SAVINGS = SAMPLE_LABELS[SAMPLE_REFS.hanakoSavings]!;

describe('open banking in Chromium: connect a bank account, see balances, send money once, disconnect', { skip: BROWSER_SKIP }, () => {
  let world: BankScenario;
  let person: TestUser;
  let browser: PersonBrowser;
  let page: Page;
  const fintech = (path: string) => `${world.fintech.url}${path}`;

  before(async () => {
    world = await startBankScenario();
    person = await world.addPerson();
    browser = await openBrowser(undefined, { locale: 'en-US' });
    page = browser.page;
  });
  after(async () => {
    await browser?.browser.close();
    await world?.close();
  });

  /** A screenshot to look at, and the accessibility basics checked on the same page. */
  const shot = (name: string) => screenshot(page, `bank-${name}`);

  /** Sekisho's page in Japanese, then back in English (the choice is kept in Sekisho's lang cookie). */
  async function bothLanguages(name: string, heading: { ja: string; en: string }) {
    const url = new URL(page.url());
    url.searchParams.set('lang', 'ja');
    await page.goto(url.href);
    await page.getByRole('heading', { name: heading.ja }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    await shot(`${name}-ja`);
    url.searchParams.set('lang', 'en');
    await page.goto(url.href);
    await page.getByRole('heading', { name: heading.en }).waitFor();
    await shot(`${name}-en`);
  }

  it('connects: the app pushes a signed request, the person signs in at Sekisho and picks one account; the app shows its balance', async () => {
    await page.goto(fintech('/'));
    await page.getByRole('heading', { name: /Connect your bank/ }).waitFor();
    await shot('home');

    assert.equal(await chooseConnect(page, world.fintech.url), 303);
    assert.ok(page.url().startsWith(`${world.server.issuer}/interaction/`), page.url());
    await bothLanguages('sekisho-sign-in', { ja: 'ログイン', en: 'Sign in' });
    await signInWithPassword(page, person);
    assert.match(await page.locator('main').innerText(), /See your account information/);
    await bothLanguages('sekisho-consent-accounts', { ja: 'アクセスを許可しますか？', en: 'Allow access?' });

    await pickAccount(page, EVERYDAY);
    assert.equal(await page.getByLabel(SAVINGS).isChecked(), false);
    await shot('sekisho-consent-accounts-chosen-en');

    const main = await allowAndSeeAccounts(page, world.fintech.url);
    for (const words of ['Your bank account is connected', '482,350円', 'カクウ ハナコ', '普段使い（架空）', 'Recent transactions']) assert.ok(main.includes(words), words);
    assert.ok(!main.includes('1,250,000'), 'the savings account was not picked, and is not shown');
    await shot('dashboard');
  });

  it('sends money with a one-time consent: the form checks the input, the person picks the account to pay from, the bank makes the transfer', async () => {
    await fillTransfer(page, { ...TRANSFER, accountNumber: '234567' });
    await page.getByRole('button', { name: /Approve at the bank/ }).click();
    await page.getByRole('alert').filter({ hasText: 'Please check what you entered' }).waitFor();
    assert.equal(await page.getByLabel('Account number').getAttribute('aria-invalid'), 'true');
    await shot('transfer-form-errors');

    await page.getByLabel('Account number').fill(TRANSFER.accountNumber);
    await shot('transfer-form');
    const consent = await approveAtTheBank(page);
    for (const words of ['Make a transfer', '¥12,000', 'カクウ タロウ', 'one use only']) assert.ok(consent.includes(words), words);
    await bothLanguages('sekisho-consent-transfer', { ja: 'アクセスを許可しますか？', en: 'Allow access?' });
    const result = await payFrom(page, EVERYDAY);
    assert.match(new URL(page.url()).pathname, /^\/transfers\/[A-Za-z0-9_-]{16}$/);
    for (const words of ['12,000円', 'カクウ タロウ', EVERYDAY, '立替分']) assert.ok(result.includes(words), words);
    await shot('transfer-done');

    await page.getByRole('link', { name: /Back to your accounts/ }).click();
    await page.getByRole('heading', { name: /Your accounts/ }).waitFor();
    const main = await page.locator('main').innerText();
    assert.ok(main.includes('470,350円'), 'the balance dropped by the transfer');
    assert.ok(main.includes('振込 カクウ タロウ'), 'and the statement shows it');
    await shot('dashboard-after-transfer');
    const transfers = world.apiLog.filter((l) => l.path === '/v1/transfers');
    assert.deepEqual(transfers.map((l) => [l.status, l.sub, l.account]), [[201, person.id, SAMPLE_REFS.hanakoMain]]);
  });

  it('disconnects: the grant ends at Sekisho, the app forgets the connection, and My consents says the service withdrew it', async () => {
    await disconnect(page);
    await shot('disconnected');
    const reads = world.apiLog.length;
    await page.goto(fintech('/transfer'));
    await page.getByRole('heading', { name: /Connect your bank/ }).waitFor();
    assert.equal(world.apiLog.length, reads, 'the app holds no token to call the bank with');
    const grant = await world.server.app.storage.db.selectFrom('consent_grants').select(['status', 'ended_by'])
      .where('client_id', '=', world.fintech.clientId).where('duration', '!=', 'once').executeTakeFirstOrThrow();
    assert.deepEqual(grant, { status: 'revoked', ended_by: 'client' });

    // The person, still signed in at Sekisho, looks at their consents.
    await page.goto(`${world.server.issuer}/account/consents?lang=en`);
    await page.getByRole('heading', { name: 'Ended consents' }).waitFor();
    const ended = await page.locator('main').innerText();
    assert.ok(ended.includes('Withdrawn by the service'), ended);
    assert.ok(ended.includes('Used (one time)'), 'the transfer consent is there too, used');
    await shot('sekisho-consents-en');
    await page.goto(`${world.server.issuer}/account/consents?lang=ja`);
    await page.getByText('サービスが取り消し').first().waitFor();
    await shot('sekisho-consents-ja');
  });

  it('no page broke its Content Security Policy or threw a script error', () => {
    assert.deepEqual(browser.problems, []);
  });
});
