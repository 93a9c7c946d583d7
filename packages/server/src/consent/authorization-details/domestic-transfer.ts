import { z } from 'zod';
import { html } from '../../ui/html.ts';
import type { Lang } from '../../ui/i18n.ts';
import type { CatalogueEntry } from '../catalogue.ts';
import type { AuthorizationDetailType } from './types.ts';
import { BANK_ACCOUNT } from './account-information.ts';
import {
  aside, check, chosenByPerson, chosenRef, groupNamed, hostsOf, isPlainObject, joinWords, labelOf, locations, optionsOf, picked, text, typeMember,
} from './common.ts';

/**
 * `domestic_transfer`: one 振込 (a transfer to an account at a bank in Japan) in yen, approved for
 * one use. The client names the amount and the payee; the person picks the account to pay from.
 *
 *   { "type": "domestic_transfer",
 *     "instructed_amount": { "currency": "JPY", "amount": "10000" },
 *     "creditor_name": "ヤマダ タロウ",
 *     "creditor_account": { "bank_code": "0001", "branch_code": "001", "account_type": "ordinary", "account_number": "1234567" },
 *     "requested_execution_date": "2025-04-01", "remittance_information": "請求書 123" }
 *
 * Granted (enriched): the same plus `debtor_account: { id, label }`, the linked resource chosen.
 */
export const DOMESTIC_TRANSFER = 'domestic_transfer';

const ACCOUNT_TYPES = ['ordinary', 'current', 'savings'] as const;

/** A calendar date that exists (2025-02-30 does not). */
function isRealDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return y >= 2000 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

const schema = z.object({
  type: typeMember(DOMESTIC_TRANSFER),
  instructed_amount: z.object({
    currency: z.literal('JPY'),
    // Yen have no minor unit: a whole number of yen as a string (RFC 9396's examples use strings for amounts).
    amount: z.string().regex(/^[1-9]\d{0,9}$/, 'must be a whole number of yen from 1 to 9999999999, as digits without leading zeros'),
  }).strict(),
  creditor_name: text(70),
  creditor_account: z.object({
    bank_code: z.string().regex(/^\d{4}$/, 'must be 4 digits'),
    branch_code: z.string().regex(/^\d{3}$/, 'must be 3 digits'),
    account_type: z.enum(ACCOUNT_TYPES),
    account_number: z.string().regex(/^\d{7}$/, 'must be 7 digits'),
  }).strict(),
  requested_execution_date: z.string().max(10, 'must be a date, YYYY-MM-DD').refine(isRealDate, 'must be a date, YYYY-MM-DD').optional(),
  remittance_information: text(140).optional(),
  locations: locations.optional(),
}).strict();

const ACCOUNT_TYPE_WORDS: Record<Lang, Record<string, string>> = {
  ja: { ordinary: '普通', current: '当座', savings: '貯蓄' },
  en: { ordinary: 'Ordinary', current: 'Current', savings: 'Savings' },
};

const WORDS = {
  ja: {
    amount: '金額', payee: '振込先', payeeAccount: '振込先口座', date: '振込日', message: '振込依頼人からのメッセージ', where: '利用先',
    now: '承認後すぐ', bank: '金融機関コード', branch: '支店コード',
  },
  en: {
    amount: 'Amount', payee: 'Payee', payeeAccount: 'Payee account', date: 'Date', message: 'Message to the payee', where: 'Used with',
    now: 'As soon as you approve', bank: 'bank code', branch: 'branch code',
  },
} satisfies Record<Lang, Record<string, string>>;

/** "¥10,000" or "10,000円"; the amount as given when it is not digits (a stored detail of another shape). */
export function yen(lang: Lang, amount: unknown): string {
  const digits = typeof amount === 'string' && /^\d{1,15}$/.test(amount) ? amount.replace(/\B(?=(\d{3})+$)/g, ',') : String(amount ?? '');
  return lang === 'ja' ? `${digits}円` : `¥${digits}`;
}

function date(lang: Lang, value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return value;
  if (lang === 'ja') return `${m[1]}年${Number(m[2])}月${Number(m[3])}日`;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
    .toLocaleDateString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'long', year: 'numeric' });
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

const label: CatalogueEntry = {
  short: { ja: '振込', en: 'Make a transfer' },
  long: {
    ja: 'お客さまが選んだ口座から、示された金額を示された振込先へ一度だけ振り込みます。',
    en: 'The service makes one transfer of the amount shown to the payee shown, from the account you choose. It can be used once.',
  },
  sensitive: true,
};

export const domesticTransfer: AuthorizationDetailType = {
  type: DOMESTIC_TRANSFER,
  label,
  oneTime: true,

  validate(detail) {
    return chosenByPerson(detail, ['debtor_account']) ?? check(schema, detail);
  },

  async choices(_detail, linked) {
    return [{
      name: 'debtor_account', label: { ja: '引き落とし口座', en: 'Account to pay from' },
      multiple: false, min: 1, options: await optionsOf(linked, BANK_ACCOUNT),
    }];
  },

  render(lang, detail) {
    const w = WORDS[lang];
    const amount = isPlainObject(detail.instructed_amount) ? detail.instructed_amount.amount : undefined;
    const account = isPlainObject(detail.creditor_account) ? detail.creditor_account : {};
    const type = ACCOUNT_TYPE_WORDS[lang][str(account.account_type)] ?? str(account.account_type);
    const execution = str(detail.requested_execution_date);
    const hosts = hostsOf(detail.locations);
    return html`<dl class="facts">
<dt>${w.amount}</dt><dd><strong>${yen(lang, amount)}</strong></dd>
<dt>${w.payee}</dt><dd>${str(detail.creditor_name)}</dd>
<dt>${w.payeeAccount}</dt><dd>${w.bank} ${str(account.bank_code)} · ${w.branch} ${str(account.branch_code)} · ${type} ${str(account.account_number)}</dd>
<dt>${w.date}</dt><dd>${execution ? date(lang, execution) : w.now}</dd>
${typeof detail.remittance_information === 'string' ? html`<dt>${w.message}</dt><dd>${detail.remittance_information}</dd>` : ''}
${hosts.length ? html`<dt>${w.where}</dt><dd>${joinWords(lang, hosts)}</dd>` : ''}
</dl>`.value;
  },

  summary(lang, granted) {
    const amount = yen(lang, isPlainObject(granted.instructed_amount) ? granted.instructed_amount.amount : undefined);
    const payee = str(granted.creditor_name);
    const from = labelOf(granted.debtor_account);
    if (lang === 'ja') return `${label.short.ja}${aside(lang, [`${payee}へ${amount}`, ...(from ? [`${from}から`] : [])].join('、'))}`;
    return `${label.short.en}${aside(lang, `${amount} to ${payee}${from ? ` from ${from}` : ''}`)}`;
  },

  grant(detail, selected, groups) {
    const group = groupNamed(groups, 'debtor_account');
    const chosen = group && picked([group], selected)?.get('debtor_account');
    return chosen?.length === 1 ? { ...detail, debtor_account: chosenRef(chosen[0]!) } : undefined;
  },
};
