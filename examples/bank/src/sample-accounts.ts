import { accountRef, addDays, tokyoDate, type Account, type BankData, type Transaction, type Words } from './bank-data.ts';

/**
 * Seed data for the example bank API. Everything here is FICTIONAL (架空 = "fictional"): the
 * bank, its branches, the people and their money were made up for the demonstration and describe
 * nobody; every name says so. The bank code is the one Sekisho's documentation uses in its examples
 * (0001), not a claim to be any real bank.
 *
 * Transactions are generated for the last `days` days before `today` with a seeded generator, so
 * the same day gives the same statement and tests can count on it: a salary on the 25th, rent on
 * the 27th, utilities, a phone bill, shopping every few days, and a monthly saving into the savings
 * account. The opening balance is worked out backwards so that each account ends on a round figure.
 */

export const BANK_CODE = '0001';
/** The bank's name in both languages. */
export const BANK_NAME: Words = { ja: '架空銀行', en: 'Kakuu Bank (fictional)' };

/** The accounts of the sample people, by ref. */
export const SAMPLE_REFS = {
  /** 架空 花子's everyday account (普通). */
  hanakoMain: '0001-001-1234567',
  /** 架空 花子's savings (貯蓄). */
  hanakoSavings: '0001-002-7654321',
  /** 架空 太郎's account: a payee inside the bank. */
  taroMain: '0001-001-2345678',
} as const;

/** What makes one sample account: its fixed facts, and how its statement is generated. */
interface Plan extends Pick<Account, 'branchCode' | 'branchName' | 'accountType' | 'accountNumber' | 'holderName' | 'nickname'> {
  /** The balance at the end of the generated history. */
  closingBalance: number;
  /** Which statement lines this account gets. */
  pattern: 'everyday' | 'savings' | 'quiet';
}

const HEAD_OFFICE: Words = { ja: '本店営業部', en: 'Head Office' };
const SAKURA_BRANCH: Words = { ja: 'さくら支店', en: 'Sakura Branch' };

const PLANS: Plan[] = [
  {
    branchCode: '001', branchName: HEAD_OFFICE, accountType: 'ordinary', accountNumber: '1234567', holderName: 'カクウ ハナコ',
    nickname: { ja: '普段使い（架空）', en: 'Everyday (fictional)' }, closingBalance: 482_350, pattern: 'everyday',
  },
  {
    branchCode: '002', branchName: SAKURA_BRANCH, accountType: 'savings', accountNumber: '7654321', holderName: 'カクウ ハナコ',
    nickname: { ja: '貯蓄（架空）', en: 'Savings (fictional)' }, closingBalance: 1_250_000, pattern: 'savings',
  },
  {
    branchCode: '001', branchName: HEAD_OFFICE, accountType: 'ordinary', accountNumber: '2345678', holderName: 'カクウ タロウ',
    nickname: { ja: '普段使い（架空）', en: 'Everyday (fictional)' }, closingBalance: 96_000, pattern: 'quiet',
  },
];

/** Mulberry32: a small seeded generator, so a given day always produces the same statement. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SHOPS = ['カード ゲンキマート', 'カード カクウスーパー', 'カード コーヒーセキショ', 'カード ホンヤ ミナト', 'カード ドラッグ サクラ'];

/** The statement lines of one day, before balances: [description, yen]. */
function linesFor(pattern: Plan['pattern'], date: string, random: () => number): Array<[string, number]> {
  const day = Number(date.slice(8, 10));
  const lines: Array<[string, number]> = [];
  if (pattern === 'everyday') {
    if (day === 25) lines.push(['給与 カクウショウジ（カ', 285_000]);
    if (day === 27) lines.push(['家賃 カクウフドウサン', -78_000]);
    if (day === 10) lines.push(['電気 カクウデンリョク', -(5_800 + Math.floor(random() * 30) * 100)]);
    if (day === 15) lines.push(['携帯 カクウモバイル', -3_300]);
    if (day === 26) lines.push(['振替 チョチク', -30_000]);
    if (random() < 0.4) lines.push([SHOPS[Math.floor(random() * SHOPS.length)]!, -(300 + Math.floor(random() * 60) * 100)]);
    if (random() < 0.05) lines.push(['ATM シハライ', -10_000]);
  } else if (pattern === 'savings') {
    if (day === 26) lines.push(['振替 フダンツカイ', 30_000]);
    if (day === 1 && date.slice(5, 7) === '03') lines.push(['利息', 12]);
  } else if (random() < 0.1) {
    lines.push([SHOPS[Math.floor(random() * SHOPS.length)]!, -(500 + Math.floor(random() * 30) * 100)]);
  }
  return lines;
}

function generate(plan: Plan, today: string, days: number): Account {
  const random = seeded(Number(plan.accountNumber) ^ Number(today.replaceAll('-', '')));
  const raw: Array<Omit<Transaction, 'balanceAfter'>> = [];
  for (let back = days; back >= 1; back -= 1) {
    const date = addDays(today, -back);
    linesFor(plan.pattern, date, random).forEach(([description, amount], i) => {
      const time = `${String(9 + i).padStart(2, '0')}:${String(Math.floor(random() * 60)).padStart(2, '0')}:00`;
      raw.push({ id: `t-${plan.accountNumber}-${date.replaceAll('-', '')}-${i}`, bookedAt: `${date}T${time}+09:00`, date, description, amount });
    });
  }
  let balance = plan.closingBalance - raw.reduce((sum, t) => sum + t.amount, 0);
  const transactions = raw.map((t) => {
    balance += t.amount;
    return { ...t, balanceAfter: balance };
  });
  return {
    ref: accountRef(BANK_CODE, plan.branchCode, plan.accountNumber),
    bankCode: BANK_CODE, branchCode: plan.branchCode, branchName: plan.branchName, accountType: plan.accountType,
    accountNumber: plan.accountNumber, holderName: plan.holderName, nickname: plan.nickname, balance: plan.closingBalance, transactions,
  };
}

/**
 * The bank's sample data as of `today` (Japan date, default today): three fictional accounts with
 * `days` (default 120) days of history each. A fresh copy every call: the API changes balances.
 */
export function sampleAccounts(today: string = tokyoDate(), days = 120): BankData {
  return { bank: { code: BANK_CODE, name: BANK_NAME }, accounts: PLANS.map((p) => generate(p, today, days)) };
}

/** The label an operator would register in Sekisho for each account (`sekisho user link --label`). */
export const SAMPLE_LABELS: Record<string, string> = {
  [SAMPLE_REFS.hanakoMain]: '普通 ****4567 (Everyday, fictional)',
  [SAMPLE_REFS.hanakoSavings]: '貯蓄 ****4321 (Savings, fictional)',
  [SAMPLE_REFS.taroMain]: '普通 ****5678 (fictional)',
};
