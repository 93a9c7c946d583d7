import { html, type Html } from '@sekisho/example-kit/html';
import { pageShell } from '@sekisho/example-kit/page';
import type { AccountType } from '../bank-data.ts';

/** What every page's header needs. */
export interface Chrome {
  appName: string;
  /** Whether the browser has a bank connection (the header then links to the dashboard and Send money). */
  connected?: boolean;
}

/** A page of the fintech app: its name and menu in the header. Japanese, with English under it. */
export function layout(chrome: Chrome, title: Html, body: Html): string {
  return pageShell({
    lang: 'ja', title: chrome.appName, heading: title, body,
    header: html`<a class="brand" href="/">${chrome.appName}</a>
${chrome.connected ? html`<nav aria-label="メニュー Menu"><a href="/">口座 <span lang="en">Accounts</span></a><a href="/transfer">振込 <span lang="en">Send money</span></a></nav>` : ''}
`,
  });
}

/** 預金種目 in both languages. */
export const ACCOUNT_TYPE_WORDS: Record<AccountType, { ja: string; en: string }> = {
  ordinary: { ja: '普通', en: 'Ordinary' },
  current: { ja: '当座', en: 'Current' },
  savings: { ja: '貯蓄', en: 'Savings' },
};

/** "12,000円" with "¥12,000" under it; a minus for money out. */
export function yen(amount: string | number): Html {
  const n = Number(amount);
  if (!Number.isSafeInteger(n)) return html`${String(amount)}`;
  const digits = Math.abs(n).toLocaleString('en-US');
  const sign = n < 0 ? '−' : '';
  return html`${sign}${digits}円 <span class="en" lang="en">${sign}¥${digits}</span>`;
}

/** The same, on one line (tables). */
export function yenInline(amount: string | number): string {
  const n = Number(amount);
  return Number.isSafeInteger(n) ? `${n < 0 ? '−' : ''}${Math.abs(n).toLocaleString('en-US')}円` : String(amount);
}
