import { ACCOUNT_REF, ACCOUNT_TYPES, isRealDate, type AccountType } from '../bank-data.ts';

/**
 * The body of `POST /transfers`, the same members as Sekisho's `domestic_transfer` detail (so a
 * client copies what the person approved) plus the account to pay from, by ref:
 *
 *   { "debtor_account": { "ref": "0001-001-1234567" },
 *     "instructed_amount": { "currency": "JPY", "amount": "12000" },
 *     "creditor_name": "株式会社 関所商店",
 *     "creditor_account": { "bank_code": "0005", "branch_code": "123", "account_type": "ordinary", "account_number": "7654321" },
 *     "remittance_information": "請求書 123",        (optional)
 *     "requested_execution_date": "2026-12-01" }   (optional)
 */
export interface TransferRequest {
  debtorRef: string;
  /** Whole yen. */
  amount: number;
  creditorName: string;
  creditorAccount: { bank_code: string; branch_code: string; account_type: AccountType; account_number: string };
  remittanceInformation?: string;
  requestedExecutionDate?: string;
}

/** One problem with the body: an RFC 6901 JSON pointer to the member, and what is wrong, in fixed words. */
export interface FieldError { pointer: string; detail: string }

/** A valid transfer (and its fingerprint for Idempotency-Key), or what is wrong with the body. */
export type Parsed = { ok: true; value: TransferRequest; fingerprint: string } | { ok: false; errors: FieldError[] };

const MEMBERS = ['debtor_account', 'instructed_amount', 'creditor_name', 'creditor_account', 'remittance_information', 'requested_execution_date'];
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Printable text of 1 to `max` characters, not blank (what Sekisho accepts for these members). */
function text(value: unknown, max: number): boolean {
  return typeof value === 'string' && value.trim().length > 0 && [...value].length <= max && !UNPRINTABLE.test(value);
}

/** Strict: every member known, of the right type and format; unknown members are errors too. */
export function parseTransferRequest(body: unknown): Parsed {
  if (!isObject(body)) return { ok: false, errors: [{ pointer: '', detail: 'must be a JSON object' }] };
  const errors: FieldError[] = [];
  const fail = (pointer: string, detail: string) => { errors.push({ pointer, detail }); };
  for (const key of Object.keys(body)) if (!MEMBERS.includes(key)) fail(`/${escape(key)}`, 'unknown member');

  const debtor = body.debtor_account;
  if (!isObject(debtor) || Object.keys(debtor).length !== 1 || typeof debtor.ref !== 'string' || !ACCOUNT_REF.test(debtor.ref)) {
    fail('/debtor_account', 'must be { "ref": "<bank>-<branch>-<number>" }, e.g. 0001-001-1234567');
  }

  const amount = body.instructed_amount;
  if (!isObject(amount) || Object.keys(amount).some((k) => k !== 'currency' && k !== 'amount')) fail('/instructed_amount', 'must be { "currency": "JPY", "amount": "<yen>" }');
  else {
    if (amount.currency !== 'JPY') fail('/instructed_amount/currency', 'must be JPY');
    if (typeof amount.amount !== 'string' || !/^[1-9]\d{0,9}$/.test(amount.amount)) {
      fail('/instructed_amount/amount', 'must be a whole number of yen from 1 to 9999999999, as digits without leading zeros');
    }
  }

  if (!text(body.creditor_name, 70)) fail('/creditor_name', 'must be 1 to 70 printable characters, not blank');

  const account = body.creditor_account;
  if (!isObject(account)) fail('/creditor_account', 'must be an object with bank_code, branch_code, account_type and account_number');
  else {
    for (const key of Object.keys(account)) if (!['bank_code', 'branch_code', 'account_type', 'account_number'].includes(key)) fail(`/creditor_account/${escape(key)}`, 'unknown member');
    if (typeof account.bank_code !== 'string' || !/^\d{4}$/.test(account.bank_code)) fail('/creditor_account/bank_code', 'must be 4 digits');
    if (typeof account.branch_code !== 'string' || !/^\d{3}$/.test(account.branch_code)) fail('/creditor_account/branch_code', 'must be 3 digits');
    if (!ACCOUNT_TYPES.includes(account.account_type as AccountType)) fail('/creditor_account/account_type', 'must be ordinary, current or savings');
    if (typeof account.account_number !== 'string' || !/^\d{7}$/.test(account.account_number)) fail('/creditor_account/account_number', 'must be 7 digits');
  }

  if (body.remittance_information !== undefined && !text(body.remittance_information, 140)) fail('/remittance_information', 'must be 1 to 140 printable characters, not blank');
  if (body.requested_execution_date !== undefined && (typeof body.requested_execution_date !== 'string' || !isRealDate(body.requested_execution_date))) {
    fail('/requested_execution_date', 'must be a date, YYYY-MM-DD');
  }
  if (errors.length) return { ok: false, errors: errors.slice(0, 10) };

  const a = account as Record<string, string>;
  const value: TransferRequest = {
    debtorRef: (debtor as { ref: string }).ref,
    amount: Number((amount as { amount: string }).amount),
    creditorName: body.creditor_name as string,
    creditorAccount: { bank_code: a.bank_code!, branch_code: a.branch_code!, account_type: a.account_type as AccountType, account_number: a.account_number! },
    ...(body.remittance_information !== undefined ? { remittanceInformation: body.remittance_information as string } : {}),
    ...(body.requested_execution_date !== undefined ? { requestedExecutionDate: body.requested_execution_date as string } : {}),
  };
  return { ok: true, value, fingerprint: fingerprint(value) };
}

/** The same transfer gives the same text whatever the member order or spacing of the body. */
function fingerprint(v: TransferRequest): string {
  const c = v.creditorAccount;
  return JSON.stringify([v.debtorRef, v.amount, v.creditorName, c.bank_code, c.branch_code, c.account_type, c.account_number, v.remittanceInformation ?? null, v.requestedExecutionDate ?? null]);
}

/** RFC 6901: `~` and `/` in a member name. */
const escape = (key: string) => key.slice(0, 64).replaceAll('~', '~0').replaceAll('/', '~1');
