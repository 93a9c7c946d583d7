/**
 * The shapes of the example bank's data and the formats its API speaks, shared by the bank API,
 * the sample data and the fintech app. Money is whole yen (yen have no minor unit): numbers
 * inside, strings of digits on the wire, as Sekisho's `domestic_transfer` detail has them.
 */

export type AccountType = 'ordinary' | 'current' | 'savings';
/** 普通, 当座, 貯蓄. */
export const ACCOUNT_TYPES: readonly AccountType[] = ['ordinary', 'current', 'savings'];

/** The bank's own account identifier, 金融機関コード-支店コード-口座番号: what Sekisho links as `ref`. */
export const ACCOUNT_REF = /^\d{4}-\d{3}-\d{7}$/;

/** A text in Japanese and English. */
export interface Words { ja: string; en: string }

/** One statement line. */
export interface Transaction {
  /** Unique within the bank. */
  id: string;
  /** When it was booked, ISO 8601 with the +09:00 offset (Japan time). */
  bookedAt: string;
  /** The booking date in Japan, YYYY-MM-DD. */
  date: string;
  /** What the statement says (通帳の摘要), e.g. "振込 カクウ タロウ". */
  description: string;
  /** Yen; negative for money out. */
  amount: number;
  /** The balance after this transaction. */
  balanceAfter: number;
}

/** An account at the bank, with its statement. */
export interface Account {
  /** `{bankCode}-{branchCode}-{accountNumber}`. */
  ref: string;
  bankCode: string;
  branchCode: string;
  branchName: Words;
  accountType: AccountType;
  accountNumber: string;
  /** The holder's name in half-width-free katakana, as Japanese banks print it (口座名義). */
  holderName: string;
  nickname: Words;
  /** Yen. */
  balance: number;
  /** Oldest first. */
  transactions: Transaction[];
}

/** The bank and its accounts: what createBankApi serves. */
export interface BankData {
  bank: { code: string; name: Words };
  accounts: Account[];
}

export const accountRef = (bankCode: string, branchCode: string, accountNumber: string): string => `${bankCode}-${branchCode}-${accountNumber}`;

/** Today's date in Japan (UTC+9, no daylight saving), YYYY-MM-DD. */
export function tokyoDate(at: Date = new Date()): string {
  return new Date(at.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}

/** A moment in Japan time, ISO 8601 with +09:00 (to the second). */
export function tokyoTimestamp(at: Date = new Date()): string {
  return `${new Date(at.getTime() + 9 * 3600_000).toISOString().slice(0, 19)}+09:00`;
}

/** `date` plus `days` (may be negative), both YYYY-MM-DD. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** A YYYY-MM-DD date that exists (2026-02-30 does not), from the year 2000. */
export function isRealDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return y >= 2000 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** Whole days from `a` to `b` (YYYY-MM-DD). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** A money amount on the wire: `{ "amount": "12000", "currency": "JPY" }` (negative amounts carry a minus). */
export const jpy = (yen: number) => ({ amount: String(yen), currency: 'JPY' as const });
