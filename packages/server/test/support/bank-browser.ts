import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

/**
 * The open-banking example's steps as a person takes them in the browser (the fintech app of
 * examples/bank and Sekisho's pages), shared by the scenario's browser test and the demo's. Each
 * step waits for what the person would see next; what to assert on the way stays in the tests.
 */

/** A transfer to 架空 太郎's everyday account (sample data), the amount typed in full-width digits. */
export const TRANSFER = {
  payee: 'カクウ タロウ', bankCode: '0001', branchCode: '001', accountType: 'ordinary', accountNumber: '2345678',
  amount: '１２，０００', message: '立替分',
};

/**
 * On the fintech's home page: Connect your bank. The app pushes its signed request (PAR) and sends
 * the browser to Sekisho: its sign-in page, or the consent screen for a person still signed in
 * there. Returns the status of the app's answer to Connect.
 */
export async function chooseConnect(page: Page, fintechUrl: string): Promise<number> {
  await page.getByRole('heading', { name: /Connect your bank/ }).waitFor();
  const connect = page.waitForResponse((r) => r.url() === `${fintechUrl}/connect`);
  await page.getByRole('button', { name: /Connect your bank/ }).click();
  const status = (await connect).status();
  await page.getByLabel('Username').or(page.getByRole('heading', { name: 'Allow access?' })).waitFor();
  return status;
}

/** On Sekisho's sign-in page of an authorization request: username, password, Sign in; the consent screen follows. */
export async function signInWithPassword(page: Page, person: { username: string; password: string }): Promise<void> {
  await page.getByLabel('Username').fill(person.username);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
}

/** On the consent screen for account information: the one account to share, and ongoing access (nothing is chosen beforehand). */
export async function pickAccount(page: Page, account: string): Promise<void> {
  assert.equal(await page.locator('input:checked').count(), 0, 'nothing is chosen for the person');
  await page.getByLabel(account).check();
  await page.getByLabel(/^Ongoing access until a date you choose/).check();
}

/** Allow on Sekisho's consent screen; the app's dashboard follows, and its text is returned. */
export async function allowAndSeeAccounts(page: Page, fintechUrl: string): Promise<string> {
  await page.getByRole('button', { name: 'Allow', exact: true }).click();
  await page.waitForURL(`${fintechUrl}/`);
  await page.getByRole('heading', { name: /Your accounts/ }).waitFor();
  return page.locator('main').innerText();
}

/** From the dashboard: Send money, and the transfer form filled in (not sent). */
export async function fillTransfer(page: Page, transfer: typeof TRANSFER = TRANSFER): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: /Send money/ }).click();
  await page.getByRole('heading', { name: /Send money/ }).waitFor();
  await page.getByLabel('Payee name').fill(transfer.payee);
  await page.getByLabel('Bank code').fill(transfer.bankCode);
  await page.getByLabel('Branch code').fill(transfer.branchCode);
  await page.getByLabel('Account type').selectOption(transfer.accountType);
  await page.getByLabel('Account number').fill(transfer.accountNumber);
  await page.getByLabel('Amount').fill(transfer.amount);
  await page.getByLabel('Message').fill(transfer.message);
}

/** Sends the filled-in form: Sekisho asks for this one transfer; returns the consent screen's text. */
export async function approveAtTheBank(page: Page): Promise<string> {
  await page.getByRole('button', { name: /Approve at the bank/ }).click();
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  return page.locator('main').innerText();
}

/** On the one-time consent screen: picks the account to pay from (none is picked beforehand) and allows; returns the result page's text. */
export async function payFrom(page: Page, account: string): Promise<string> {
  assert.equal(await page.getByRole('radio').filter({ has: page.locator(':checked') }).count(), 0, 'no account is picked for the person');
  await page.getByRole('radio', { name: account }).check();
  await page.getByRole('button', { name: 'Allow', exact: true }).click();
  await page.getByRole('heading', { name: /Transfer made/ }).waitFor();
  return page.locator('main').innerText();
}

/** On the dashboard: Disconnect; the app says it can no longer read the accounts and offers to connect again. */
export async function disconnect(page: Page): Promise<void> {
  await page.getByRole('button', { name: /Disconnect/ }).click();
  await page.getByRole('status').filter({ hasText: /This app can no longer read your accounts/ }).waitFor();
  await page.getByRole('heading', { name: /Connect your bank/ }).waitFor();
}
