import type { ConsentRecord } from '../../consent/ledger.ts';
import { html } from '../html.ts';
import { hasMessage, t, type Lang } from '../i18n.ts';
import { accountPage, when } from './shell.ts';

export interface ConsentsView {
  csrf: string;
  records: ConsentRecord[];
  clientNames: Map<string, string>;
}

const label = (lang: Lang, prefix: string, value: string) => (hasMessage(`${prefix}.${value}`) ? t(lang, `${prefix}.${value}`) : value);

/**
 * The person's consent history: every decision the ledger holds about them, newest first, each
 * with its signed receipt. (Managing active grants comes with the grant pages.)
 */
export function consentsPage(lang: Lang, v: ConsentsView): string {
  return accountPage(lang, { section: 'consents', csrf: v.csrf, self: '/account/consents', title: t(lang, 'account.section.consents') }, html`
<section aria-labelledby="history-h">
<h2 id="history-h">${t(lang, 'consents.history')}</h2>
<p class="muted">${t(lang, 'consents.history.lead')}</p>
${v.records.length ? html`<table class="list" id="consent-history">
<thead><tr><th scope="col">${t(lang, 'account.when')}</th><th scope="col">${t(lang, 'consents.service')}</th><th scope="col">${t(lang, 'consents.decision')}</th><th scope="col">${t(lang, 'consents.what')}</th><th scope="col">${t(lang, 'consents.receipt')}</th></tr></thead>
<tbody>${v.records.map((r) => {
  const parts = r.decision === 'denied' ? r.requested : r.granted;
  const items = [...parts.scopes.filter((s) => s !== 'openid').map((s) => label(lang, 'scope', s)), ...parts.claims, ...Object.keys(parts.resources)];
  return html`<tr>
  <td>${when(lang, r.recordedAt)}</td>
  <td>${v.clientNames.get(r.clientId) ?? r.clientId}</td>
  <td>${label(lang, 'consents.decision', r.decision)}${r.action === 'merge' ? html` <span class="muted">(${t(lang, 'consents.added')})</span>` : ''}</td>
  <td>${items.length ? items.join('、') : '—'}</td>
  <td><a href="/account/consents/receipt?id=${r.id}" download="consent-receipt-${r.id}.jwt" aria-label="${t(lang, 'consents.receipt.named', { when: r.recordedAt.toISOString().slice(0, 10) })}">${t(lang, 'consents.receipt.download')}</a></td>
</tr>`;
})}</tbody>
</table>` : html`<p>${t(lang, 'consents.none')}</p>`}
<p class="muted">${t(lang, 'consents.receipt.help')}</p>
</section>`);
}
