import { z } from 'zod';
import { html } from '../../ui/html.ts';
import type { Lang } from '../../ui/i18n.ts';
import type { CatalogueEntry } from '../catalogue.ts';
import type { AuthorizationDetailType } from './types.ts';
import {
  aside, check, chosenByPerson, chosenRef, groupNamed, hostsOf, joinWords, labelOf, locations, optionsOf, picked, stringsOf, subsetOf, typeMember,
} from './common.ts';

/**
 * `account_information`: reading a person's bank accounts (the list, balances, transactions), in
 * the spirit of the account information APIs of Japan's 電子決済等代行業 and of PSD2. The client
 * says what it wants to read; the person picks the accounts.
 *
 *   { "type": "account_information", "actions": ["read_balances", "read_transactions"],
 *     "transaction_history_days": 90, "locations": ["https://api.bank.example/"] }
 *
 * Granted (enriched, RFC 9396 §7): the same plus `accounts: [{ id, label }]`, the linked resources
 * chosen.
 */
export const ACCOUNT_INFORMATION = 'account_information';
/** The linked resources a person picks from. */
export const BANK_ACCOUNT = 'bank_account';

const ACTIONS = ['list_accounts', 'read_balances', 'read_transactions'] as const;

const schema = z.object({
  type: typeMember(ACCOUNT_INFORMATION),
  actions: subsetOf(ACTIONS),
  locations: locations.optional(),
  transaction_history_days: z.number().int('must be a whole number of days').min(1, 'at least 1 day').max(730, 'at most 730 days').optional(),
}).strict().refine((d) => d.transaction_history_days === undefined || (Array.isArray(d.actions) && d.actions.includes('read_transactions')), {
  path: ['transaction_history_days'], message: 'only with the read_transactions action',
});

const WORDS: Record<Lang, { list: string; balances: string; transactions: string; days: (n: number) => string; allHistory: string; where: string; data: string }> = {
  ja: {
    list: '口座の一覧（口座の種類・番号・名義）', balances: '残高', transactions: '入出金明細',
    days: (n) => `過去${n}日分`, allHistory: '銀行が保存している期間すべて', where: '利用先', data: '参照する情報',
  },
  en: {
    list: 'The list of your accounts (type, number and holder name)', balances: 'Balances', transactions: 'Transactions',
    days: (n) => `the last ${n} days`, allHistory: 'as far back as the bank keeps them', where: 'Used with', data: 'What it reads',
  },
};

function dataWords(lang: Lang, detail: Record<string, unknown>): string[] {
  const w = WORDS[lang];
  const actions = stringsOf(detail.actions);
  const days = typeof detail.transaction_history_days === 'number' ? detail.transaction_history_days : undefined;
  return [
    ...(actions.includes('list_accounts') ? [w.list] : []),
    ...(actions.includes('read_balances') ? [w.balances] : []),
    ...(actions.includes('read_transactions') ? [`${w.transactions}${aside(lang, days ? w.days(days) : w.allHistory)}`] : []),
  ];
}

const label: CatalogueEntry = {
  short: { ja: '口座情報の参照', en: 'See your account information' },
  long: {
    ja: 'お客さまが選んだ口座について、示された情報（口座の一覧、残高、入出金明細）を参照します。振込などの操作はできません。',
    en: 'The service reads the information shown (the list of accounts, balances, transactions) for the accounts you choose. It cannot move money.',
  },
  sensitive: true,
};

export const accountInformation: AuthorizationDetailType = {
  type: ACCOUNT_INFORMATION,
  label,
  oneTime: false,

  validate(detail) {
    return chosenByPerson(detail, ['accounts']) ?? check(schema, detail);
  },

  async choices(_detail, linked) {
    return [{
      name: 'accounts', label: { ja: '参照を許可する口座', en: 'Accounts the service may see' },
      multiple: true, min: 1, options: await optionsOf(linked, BANK_ACCOUNT),
    }];
  },

  render(lang, detail) {
    const w = WORDS[lang];
    const hosts = hostsOf(detail.locations);
    return html`<dl class="facts">
<dt>${w.data}</dt><dd><ul class="parts">${dataWords(lang, detail).map((d) => html`<li>${d}</li>`)}</ul></dd>
${hosts.length ? html`<dt>${w.where}</dt><dd>${joinWords(lang, hosts)}</dd>` : ''}
</dl>`.value;
  },

  summary(lang, granted) {
    const accounts = Array.isArray(granted.accounts) ? granted.accounts.map(labelOf).filter((l) => l !== undefined) : [];
    return `${label.short[lang]}${aside(lang, joinWords(lang, accounts))}`;
  },

  grant(detail, selected, groups) {
    const group = groupNamed(groups, 'accounts');
    const chosen = group && picked([group], selected)?.get('accounts');
    return chosen ? { ...detail, accounts: chosen.map(chosenRef) } : undefined;
  },
};
