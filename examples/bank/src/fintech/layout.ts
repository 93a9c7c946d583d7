import type { AccountType } from '../bank-data.ts';
import { bi, html, type Html } from './html.ts';

/** What every page's header needs. */
export interface Chrome {
  appName: string;
  /** Whether the browser has a bank connection (the header then links to the dashboard and Send money). */
  connected?: boolean;
}

/** The page shell: one header, one main landmark, the stylesheet. Japanese, with English under it. */
export function layout(chrome: Chrome, title: Html, body: Html): string {
  return '<!doctype html>\n' + html`<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${chrome.appName}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header class="top"><a class="brand" href="/">${chrome.appName}</a>
${chrome.connected ? html`<nav aria-label="メニュー Menu"><a href="/">口座 <span lang="en">Accounts</span></a><a href="/transfer">振込 <span lang="en">Send money</span></a></nav>` : ''}
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`.value;
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
