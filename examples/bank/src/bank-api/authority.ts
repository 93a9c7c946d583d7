import { addDays } from '../bank-data.ts';
import type { TransferRequest } from './transfer-request.ts';

/**
 * What a token's `authorization_details` allow at this bank, read the way Sekisho grants them
 * (docs/rich-authorization-requests.md): the person picked the accounts on the consent screen, and
 * Sekisho added them to the detail as `{ id, label, ref }`, where `ref` is what the bank gave when
 * the account was linked (`sekisho user link --ref 0001-001-1234567`). Only `ref` names an account
 * here; `id` is Sekisho's and means nothing to the bank. A detail with `locations` counts only
 * when one of them is this API (RFC 9396 §2.2): Sekisho does not compare them with `resource`.
 */

export const ACCOUNT_INFORMATION = 'account_information';
export const DOMESTIC_TRANSFER = 'domestic_transfer';

/** The actions of `account_information`. */
export type AccountAction = 'list_accounts' | 'read_balances' | 'read_transactions';

/** An authorization detail as the SDK hands it over (RFC 9396: a `type` and anything else). */
export interface Detail { type: string; [member: string]: unknown }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

function forThisApi(detail: Detail, audience: string): boolean {
  if (detail.locations === undefined) return true;
  const norm = (s: string) => (URL.canParse(s) ? new URL(s).href.replace(/\/$/, '') : s);
  return strings(detail.locations).some((l) => norm(l) === norm(audience));
}

/** The `ref`s of the accounts a detail names (`accounts` of account_information). */
function accountRefs(detail: Detail): string[] {
  if (!Array.isArray(detail.accounts)) return [];
  return detail.accounts.flatMap((a: unknown) => (isObject(a) && typeof a.ref === 'string' && a.ref ? [a.ref] : []));
}

/** account_information details for this API that allow `action`. */
export function accountDetails(details: Detail[], action: AccountAction, audience: string): Detail[] {
  return details.filter((d) => d.type === ACCOUNT_INFORMATION && forThisApi(d, audience) && strings(d.actions).includes(action));
}

/** Every account the token lets its holder do `action` on, by ref. */
export function grantedRefs(details: Detail[], action: AccountAction, audience: string): Set<string> {
  return new Set(accountDetails(details, action, audience).flatMap(accountRefs));
}

/** The details that allow `action` on account `ref`. */
export function detailsFor(details: Detail[], action: AccountAction, ref: string, audience: string): Detail[] {
  return accountDetails(details, action, audience).filter((d) => accountRefs(d).includes(ref));
}

/**
 * The earliest date (YYYY-MM-DD) whose transactions these details let the holder read, given
 * `today`: `transaction_history_days` back, or undefined when one of them sets no limit ("as far
 * back as the bank keeps them").
 */
export function earliestReadable(details: Detail[], today: string): string | undefined {
  let earliest: string | undefined = today;
  for (const d of details) {
    const days = d.transaction_history_days;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1) return undefined;
    const from = addDays(today, -days);
    if (from < earliest!) earliest = from;
  }
  return earliest;
}

/** domestic_transfer details for this API. */
export function transferDetails(details: Detail[], audience: string): Detail[] {
  return details.filter((d) => d.type === DOMESTIC_TRANSFER && forThisApi(d, audience));
}

/** The account a granted transfer pays from: `debtor_account.ref`, the account the person picked. */
export function debtorRef(detail: Detail): string | undefined {
  return isObject(detail.debtor_account) && typeof detail.debtor_account.ref === 'string' ? detail.debtor_account.ref : undefined;
}

/**
 * Does the granted transfer `detail` say exactly what `request` asks for? Amount, payee, payee
 * account and the account to pay from must be equal, and so must the message and the date (both
 * absent, or the same). Nothing is rounded or normalised: the person approved this text.
 */
export function sameTransfer(detail: Detail, request: TransferRequest): boolean {
  const amount = detail.instructed_amount;
  const creditor = detail.creditor_account;
  if (!isObject(amount) || !isObject(creditor)) return false;
  return amount.currency === 'JPY' && amount.amount === String(request.amount)
    && detail.creditor_name === request.creditorName
    && creditor.bank_code === request.creditorAccount.bank_code && creditor.branch_code === request.creditorAccount.branch_code
    && creditor.account_type === request.creditorAccount.account_type && creditor.account_number === request.creditorAccount.account_number
    && debtorRef(detail) === request.debtorRef
    && detail.remittance_information === request.remittanceInformation
    && detail.requested_execution_date === request.requestedExecutionDate;
}
