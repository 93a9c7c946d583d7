import { bi, html, type Html } from '@sekisho/example-kit/html';
import type { Dashboard } from './connection.ts';
import { ACCOUNT_TYPE_WORDS, layout, yen, yenInline, type Chrome } from './layout.ts';
import type { Notice, TransferOutcome } from './state.ts';
import type { TransferField } from './transfer-form.ts';
import type { AccountType, Words } from '../bank-data.ts';

/** Errors in words; anything else is shown with its code. */
const ERROR_WORDS: Record<string, Html> = {
  access_denied: bi('銀行で許可されませんでした。', 'It was not allowed at the bank.'),
  unreachable: bi('銀行の認可サーバーに接続できませんでした。', 'The bank\'s authorization server could not be reached.'),
  invalid_response: bi('銀行の認可サーバーから想定外の応答がありました。', 'The bank\'s authorization server answered in an unexpected way.'),
  expired: bi('時間がたちすぎました。もう一度お試しください。', 'That took too long. Please try again.'),
  no_pending: bi('この応答を待っていませんでした。もう一度お試しください。', 'This app was not waiting for that answer. Please try again.'),
  token_not_dpop_bound: bi('発行されたトークンが DPoP で保護されていませんでした。', 'The token issued was not bound to this app\'s key.'),
  no_accounts: bi('口座が選ばれませんでした。', 'No account was chosen.'),
};

function errorWords(code: string): Html {
  return ERROR_WORDS[code] ?? bi(`エラーが発生しました（${code}）。`, `Something went wrong (${code}).`);
}

function noticeBlock(notice?: Notice): Html {
  if (!notice) return html``;
  if (typeof notice === 'object') return html`<p class="error" role="alert">${errorWords(notice.error)}</p>`;
  const words: Record<string, { text: Html; ok: boolean }> = {
    connected: { text: bi('銀行口座をつなぎました。', 'Your bank account is connected.'), ok: true },
    disconnected: { text: bi('接続を解除しました。このアプリはもう口座情報を読めません。', 'Disconnected. This app can no longer read your accounts.'), ok: true },
    ended: { text: bi('銀行との接続は終了しています（銀行側で同意が取り消されました）。', 'The connection to your bank has ended (the consent was withdrawn at the bank).'), ok: false },
    denied: { text: ERROR_WORDS.access_denied!, ok: false },
    disconnect_failed: { text: bi('接続を解除できませんでした。もう一度お試しください。', 'The connection could not be ended. Please try again.'), ok: false },
  };
  const w = words[notice]!;
  return w.ok ? html`<p class="ok" role="status">${w.text}</p>` : html`<p class="error" role="alert">${w.text}</p>`;
}

/** Not connected: what connecting means, and the button. */
export function homePage(chrome: Chrome, csrf: string, bankName: Words, notice?: Notice): string {
  return layout(chrome, bi('銀行口座をつなぐ', 'Connect your bank'), html`
${noticeBlock(notice)}
<p>${bi(`${bankName.ja}の口座をつなぐと、残高と入出金明細をこのアプリで見られます。`, `Connect your account at ${bankName.en} to see your balances and transactions here.`)}</p>
<ul>
<li>${bi('参照するのは、口座の一覧・残高・入出金明細（過去90日分）です。お金を動かすことはできません。', 'The app reads the list of accounts, balances and the last 90 days of transactions. It cannot move money.')}</li>
<li>${bi('どの口座を見せるかは、銀行の画面であなたが選びます。', 'You choose which accounts it may see, on the bank\'s own screen.')}</li>
<li>${bi('接続はいつでも解除できます。', 'You can disconnect at any time.')}</li>
</ul>
<form method="post" action="/connect">
<input type="hidden" name="csrf" value="${csrf}">
<p><button type="submit">銀行口座をつなぐ <span lang="en">Connect your bank</span></button></p>
</form>`);
}

/** Connected: each account's balance and recent transactions, Send money, Disconnect. */
export function dashboardPage(chrome: Chrome, csrf: string, dashboard: Dashboard, transfers: TransferOutcome[], recentDays: number, notice?: Notice): string {
  const body = dashboard.ok ? html`
${dashboard.accounts.length === 0 ? html`<p>${bi('表示できる口座がありません。', 'There is no account to show.')}</p>` : ''}
${dashboard.accounts.map((s) => html`<section class="account" aria-labelledby="acct-${s.account.id}">
<h2 id="acct-${s.account.id}">${s.account.nickname?.ja ?? s.label ?? s.account.id} <span class="en" lang="en">${s.account.nickname?.en ?? ''}</span></h2>
<dl class="facts">
<dt>${bi('口座', 'Account')}</dt><dd>${s.account.bank_name?.ja ?? ''} ${s.account.branch_name?.ja ?? ''} ${ACCOUNT_TYPE_WORDS[s.account.account_type as AccountType]?.ja ?? s.account.account_type} ${s.account.account_number}</dd>
<dt>${bi('名義', 'Holder')}</dt><dd>${s.account.holder_name}</dd>
<dt>${bi('残高', 'Balance')}</dt><dd class="balance">${s.balance ? yen(s.balance.amount) : bi('読み込めませんでした', 'Could not be read')}</dd>
</dl>
<h3>${bi(`最近の入出金（${recentDays}日間）`, `Recent transactions (${recentDays} days)`)}</h3>
${!s.transactions ? html`<p class="error">${bi('読み込めませんでした。', 'Could not be read.')}</p>`
    : s.transactions.length === 0 ? html`<p>${bi('ありません。', 'None.')}</p>`
    : html`<table><thead><tr><th scope="col">${bi('日付', 'Date')}</th><th scope="col">${bi('摘要', 'Description')}</th><th scope="col" class="num">${bi('金額', 'Amount')}</th><th scope="col" class="num">${bi('残高', 'Balance')}</th></tr></thead>
<tbody>${s.transactions.slice(0, 8).map((t) => html`<tr><td>${t.date}</td><td>${t.description}</td><td class="num">${yenInline(t.amount.amount)}</td><td class="num">${yenInline(t.balance_after.amount)}</td></tr>`)}</tbody></table>`}
</section>`)}`
    : html`<p class="error" role="alert">${dashboard.problem === 'unavailable'
      ? bi('銀行に接続できませんでした。しばらくしてからもう一度お試しください。', 'The bank could not be reached. Please try again shortly.')
      : bi('銀行が口座情報の提供を拒否しました。', 'The bank refused to give the account information.')}</p>`;
  return layout(chrome, bi('口座の概要', 'Your accounts'), html`
${noticeBlock(notice)}
${body}
<div class="actions">
<a href="/transfer">${bi('振込する', 'Send money')}</a>
<form class="inline" method="post" action="/disconnect">
<input type="hidden" name="csrf" value="${csrf}">
<button class="danger" type="submit">接続を解除 <span lang="en">Disconnect</span></button>
</form>
</div>
${transfers.length ? html`<h2>${bi('このアプリからの振込', 'Transfers from this app')}</h2>
<ul class="plain">${transfers.map((t) => html`<li><a href="/transfers/${t.id}">${t.input.creditorName} ${yenInline(t.input.amount)}</a> — ${t.status === 'done' ? bi('完了', 'Made') : bi('未実行', 'Not made')}</li>`)}</ul>` : ''}
<p class="notice">${bi('接続を解除すると、銀行側の同意も終了し、このアプリはすぐに口座を読めなくなります。', 'Disconnecting ends the consent at the bank too: this app stops reading your accounts at once.')}</p>`);
}

const FIELD_WORDS: Record<TransferField, Html> = {
  payee_name: bi('振込先の名前を入力してください（70文字まで）。', 'Enter the payee\'s name (up to 70 characters).'),
  bank_code: bi('金融機関コードは4桁の数字です。', 'The bank code is 4 digits.'),
  branch_code: bi('支店コードは3桁の数字です。', 'The branch code is 3 digits.'),
  account_type: bi('預金種目を選んでください。', 'Choose the account type.'),
  account_number: bi('口座番号は7桁の数字です。', 'The account number is 7 digits.'),
  amount: bi('金額は1円以上の整数で入力してください。', 'Enter a whole number of yen, at least 1.'),
  message: bi('メッセージは140文字までです。', 'The message is up to 140 characters.'),
};

/** The Send money form; with `wrong` fields after a failed submission (each said next to its field). */
export function transferPage(chrome: Chrome, csrf: string, maxAmount: number, values: Record<string, string> = {}, wrong: TransferField[] = []): string {
  const v = (name: string) => values[name] ?? '';
  const invalid = (f: TransferField) => wrong.includes(f);
  const field = (name: TransferField, label: Html, attributes: Html, help?: Html) => html`
<label for="${name}">${label}</label>
<input type="text" id="${name}" name="${name}" value="${v(name)}" ${attributes}${invalid(name) ? html` aria-invalid="true" aria-describedby="${name}-error"` : ''}>
${help && !invalid(name) ? html`<p class="notice">${help}</p>` : ''}
${invalid(name) ? html`<p class="field-error" id="${name}-error">${FIELD_WORDS[name]}</p>` : ''}`;
  return layout(chrome, bi('振込', 'Send money'), html`
${wrong.length ? html`<p class="error" role="alert">${bi('入力内容を確認してください。', 'Please check what you entered.')}</p>` : ''}
<p>${bi('振込元の口座は、銀行の画面で選び、この1回の振込だけを承認します。', 'You choose the account to pay from on the bank\'s screen, and approve this one transfer only.')}</p>
<form method="post" action="/transfer" novalidate>
<input type="hidden" name="csrf" value="${csrf}">
${field('payee_name', bi('振込先の名前', 'Payee name'), html`required maxlength="70" autocomplete="off"`)}
<fieldset>
<legend>${bi('振込先の口座', 'Payee account')}</legend>
${field('bank_code', bi('金融機関コード（4桁）', 'Bank code (4 digits)'), html`class="short" required inputmode="numeric" maxlength="4" autocomplete="off"`)}
${field('branch_code', bi('支店コード（3桁）', 'Branch code (3 digits)'), html`class="short" required inputmode="numeric" maxlength="3" autocomplete="off"`)}
<label for="account_type">${bi('預金種目', 'Account type')}</label>
<select id="account_type" name="account_type">${(['ordinary', 'current', 'savings'] as const).map((t) => html`<option value="${t}"${v('account_type') === t ? html` selected` : ''}>${ACCOUNT_TYPE_WORDS[t].ja} / ${ACCOUNT_TYPE_WORDS[t].en}</option>`)}</select>
${field('account_number', bi('口座番号（7桁）', 'Account number (7 digits)'), html`class="short" required inputmode="numeric" maxlength="7" autocomplete="off"`)}
</fieldset>
${field('amount', bi('金額（円）', 'Amount (yen)'), html`class="short" required inputmode="numeric" maxlength="16" autocomplete="off"`, bi(`${maxAmount.toLocaleString('en-US')}円まで`, `Up to ¥${maxAmount.toLocaleString('en-US')}`))}
${field('message', bi('メッセージ（任意）', 'Message (optional)'), html`maxlength="140" autocomplete="off"`)}
<p><button type="submit">銀行で承認する <span lang="en">Approve at the bank</span></button></p>
</form>`);
}

const PROBLEM_WORDS: Record<string, Html> = {
  insufficient_funds: bi('残高が足りませんでした。', 'There was not enough money in the account.'),
  consent_used: bi('この承認はすでに使われています。', 'This approval has been used already.'),
  other_person: bi('接続した方とは別の方が銀行で承認しました。振込は行っていません。', 'Someone other than the person who connected approved at the bank. Nothing was sent.'),
  not_as_asked: bi('銀行で承認された内容が依頼と異なりました。振込は行っていません。', 'What was approved at the bank differs from what was asked. Nothing was sent.'),
  forbidden: bi('銀行が振込を拒否しました。', 'The bank refused the transfer.'),
  unavailable: bi('銀行に接続できませんでした。', 'The bank could not be reached.'),
};

/** How a transfer went. */
export function transferResultPage(chrome: Chrome, t: TransferOutcome): string {
  const done = t.status === 'done';
  return layout(chrome, done ? bi('振込が完了しました', 'Transfer made') : bi('振込できませんでした', 'The transfer was not made'), html`
${done ? html`<p class="ok" role="status">${bi('銀行で振込が実行されました。', 'The bank has made the transfer.')}</p>`
    : html`<p class="error" role="alert">${PROBLEM_WORDS[t.problem ?? ''] ?? errorWords(t.problem ?? 'error')}</p>`}
<dl class="facts">
<dt>${bi('振込先', 'Payee')}</dt><dd>${t.input.creditorName}</dd>
<dt>${bi('振込先口座', 'Payee account')}</dt><dd>${t.input.bankCode}-${t.input.branchCode} ${ACCOUNT_TYPE_WORDS[t.input.accountType].ja} ${t.input.accountNumber}</dd>
<dt>${bi('金額', 'Amount')}</dt><dd>${yen(t.input.amount)}</dd>
${t.input.message ? html`<dt>${bi('メッセージ', 'Message')}</dt><dd>${t.input.message}</dd>` : ''}
${t.debtorLabel ? html`<dt>${bi('振込元', 'Paid from')}</dt><dd>${t.debtorLabel}</dd>` : ''}
${t.executedAt ? html`<dt>${bi('実行日時', 'Made at')}</dt><dd>${t.executedAt.replace('T', ' ').replace('+09:00', ' JST')}</dd>` : ''}
${t.bankTransferId ? html`<dt>${bi('受付番号', 'Bank reference')}</dt><dd>${t.bankTransferId}</dd>` : ''}
</dl>
<p><a href="/">${bi('口座の概要へ戻る', 'Back to your accounts')}</a></p>`);
}

/** A page with one message and a way back. */
export function messagePage(chrome: Chrome, title: Html, message: Html, back = '/'): string {
  return layout(chrome, title, html`<p>${message}</p><p><a href="${back}">${bi('戻る', 'Back')}</a></p>`);
}
