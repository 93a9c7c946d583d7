import { one } from '@sekisho/example-kit/http-io';
import { ACCOUNT_TYPES, type AccountType } from '../bank-data.ts';

/** What the person typed on "Send money", checked: the payee and the amount. The account to pay from is picked at the bank. */
export interface TransferInput {
  creditorName: string;
  bankCode: string;
  branchCode: string;
  accountType: AccountType;
  accountNumber: string;
  /** Whole yen. */
  amount: number;
  message?: string;
}

/** The fields of the Send money form. */
export type TransferField = 'payee_name' | 'bank_code' | 'branch_code' | 'account_type' | 'account_number' | 'amount' | 'message';

const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;
/** Full-width digits (０-９) as people type them on Japanese keyboards. */
const halfWidth = (s: string) => s.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));

/**
 * The form's fields, checked as the bank and Sekisho will check them (so the person hears about a
 * mistake here, not at the bank): names 1–70 printable characters, codes and numbers of the right
 * number of digits, an amount of whole yen (commas, spaces and full-width digits allowed) up to
 * `maxAmount`. Returns the transfer, or the fields that are wrong.
 */
export function readTransferForm(form: URLSearchParams, maxAmount: number): { ok: true; value: TransferInput } | { ok: false; fields: TransferField[]; values: Record<string, string> } {
  const field = (name: TransferField) => (one(form, name) ?? '').trim();
  const values = Object.fromEntries((['payee_name', 'bank_code', 'branch_code', 'account_type', 'account_number', 'amount', 'message'] as const).map((n) => [n, field(n).slice(0, 200)]));
  const wrong: TransferField[] = [];
  const name = values.payee_name!;
  if (!name || [...name].length > 70 || UNPRINTABLE.test(name)) wrong.push('payee_name');
  const bankCode = halfWidth(values.bank_code!);
  if (!/^\d{4}$/.test(bankCode)) wrong.push('bank_code');
  const branchCode = halfWidth(values.branch_code!);
  if (!/^\d{3}$/.test(branchCode)) wrong.push('branch_code');
  const accountType = values.account_type as AccountType;
  if (!ACCOUNT_TYPES.includes(accountType)) wrong.push('account_type');
  const accountNumber = halfWidth(values.account_number!);
  if (!/^\d{7}$/.test(accountNumber)) wrong.push('account_number');
  const digits = halfWidth(values.amount!).replace(/[,，\s円¥]/g, '');
  const amount = /^[1-9]\d{0,9}$/.test(digits) ? Number(digits) : NaN;
  if (!(amount >= 1 && amount <= maxAmount)) wrong.push('amount');
  const message = values.message!;
  if (message && ([...message].length > 140 || UNPRINTABLE.test(message))) wrong.push('message');
  if (wrong.length) return { ok: false, fields: wrong, values };
  return { ok: true, value: { creditorName: name, bankCode, branchCode, accountType, accountNumber, amount, ...(message ? { message } : {}) } };
}

/** The `domestic_transfer` detail to ask Sekisho for (docs/rich-authorization-requests.md); the person picks `debtor_account`. */
export function transferDetail(t: TransferInput, bankAudience: string) {
  return {
    type: 'domestic_transfer',
    instructed_amount: { currency: 'JPY', amount: String(t.amount) },
    creditor_name: t.creditorName,
    creditor_account: { bank_code: t.bankCode, branch_code: t.branchCode, account_type: t.accountType, account_number: t.accountNumber },
    ...(t.message ? { remittance_information: t.message } : {}),
    // Sekisho accepts only https URLs here; over http (a developer's machine) `resource` alone names the bank.
    ...(bankAudience.startsWith('https:') ? { locations: [bankAudience] } : {}),
  };
}

/** The account information the app asks for when connecting a bank. */
export function accountInformationDetail(bankAudience: string, historyDays: number) {
  return {
    type: 'account_information',
    actions: ['list_accounts', 'read_balances', 'read_transactions'],
    transaction_history_days: historyDays,
    ...(bankAudience.startsWith('https:') ? { locations: [bankAudience] } : {}),
  };
}
