import type { GrantSummary } from '../../consent/grants.ts';
import type { ConsentRecord, ConsentScope } from '../../consent/ledger.ts';
import type { Catalogue } from '../../consent/catalogue.ts';
import { html } from '../html.ts';
import { hasMessage, t, type Lang } from '../i18n.ts';
import { accountPage, alert, csrfField, when } from './shell.ts';

export interface ConsentsView {
  csrf: string;
  catalogue: Catalogue;
  grants: GrantSummary[];
  records: ConsentRecord[];
  clientNames: Map<string, string>;
  done?: string | undefined;
  error?: string;
}

const label = (lang: Lang, prefix: string, value: string) => (hasMessage(`${prefix}.${value}`) ? t(lang, `${prefix}.${value}`) : value);

/**
 * A grant's parts in words, from the catalogue, each with the value that withdraws it on its own
 * (RAR types by name, not yet withdrawable one by one). Signing in itself (openid) is not a part.
 */
function partsIn(lang: Lang, catalogue: Catalogue, parts: ConsentScope): Array<{ label: string; value?: string }> {
  return [
    ...parts.scopes.filter((s) => s !== 'openid').map((s) => ({ label: catalogue.scope(s).short[lang], value: `scope:${s}` })),
    ...parts.claims.map((c) => ({ label: catalogue.claim(c).short[lang], value: `claim:${c}` })),
    ...Object.entries(parts.resources).flatMap(([r, list]) => list.map((s) => ({ label: catalogue.scope(s).short[lang], value: `resource:${r} ${s}` }))),
    ...parts.authorizationDetails.map((d) => ({ label: String(d.type) })),
  ];
}

function itemsOf(lang: Lang, catalogue: Catalogue, parts: ConsentScope): string[] {
  return partsIn(lang, catalogue, parts).filter((p) => p.value !== 'scope:offline_access').map((p) => p.label);
}

/**
 * The person's consents: the services that can reach their data now (each withdrawable at once),
 * then every decision the ledger holds about them, newest first, each with its signed receipt.
 */
export function consentsPage(lang: Lang, v: ConsentsView): string {
  return accountPage(lang, { section: 'consents', csrf: v.csrf, self: '/account/consents', done: v.done, title: t(lang, 'account.section.consents') }, html`
${alert(v.error)}
<section aria-labelledby="grants-h">
<h2 id="grants-h">${t(lang, 'consents.active')}</h2>
${v.grants.length ? html`<ul class="grants" id="grants">${v.grants.map((g) => {
  const name = v.clientNames.get(g.clientId) ?? g.clientId;
  const parts = partsIn(lang, v.catalogue, g.parts);
  const items = parts.filter((p) => p.value !== 'scope:offline_access').map((p) => p.label);
  return html`<li>
  <p><strong>${name}</strong>${g.ongoing ? html` <span class="badge">${t(lang, 'consents.ongoing')}</span>` : ''}</p>
  ${parts.length > 1 ? html`<ul class="parts">${parts.map((part) => html`<li>${part.label}${part.value ? html`
    <form method="post" action="/account/consents/withdraw-part" class="inline">${csrfField(v.csrf)}<input type="hidden" name="id" value="${g.id}"><input type="hidden" name="part" value="${part.value}">
      <button class="link small" type="submit" aria-label="${t(lang, 'consents.withdraw-part-named', { part: part.label, client: name })}">${t(lang, 'consents.withdraw-part')}</button></form>` : ''}</li>`)}</ul>`
    : html`<p>${items.length ? items[0] : t(lang, 'consents.sign-in-only')}</p>`}
  <p class="muted">${t(lang, 'consents.since')} ${when(lang, g.createdAt)} · ${t(lang, 'consents.last-used')} ${when(lang, g.lastUsedAt)} · ${t(lang, 'consents.until')} ${g.expiresAt ? when(lang, g.expiresAt) : t(lang, 'consents.until-withdrawn')}</p>
  <form method="post" action="/account/consents/revoke" class="inline">${csrfField(v.csrf)}<input type="hidden" name="id" value="${g.id}">
    <button class="secondary small" type="submit" aria-label="${t(lang, 'consents.revoke-named', { client: name })}">${t(lang, 'consents.revoke')}</button></form>
</li>`;
})}</ul>` : html`<p>${t(lang, 'consents.active.none')}</p>`}
<p class="muted">${t(lang, 'consents.revoke.help')}</p>
</section>
<section aria-labelledby="history-h">
<h2 id="history-h">${t(lang, 'consents.history')}</h2>
<p class="muted">${t(lang, 'consents.history.lead')}</p>
${v.records.length ? html`<table class="list" id="consent-history">
<thead><tr><th scope="col">${t(lang, 'account.when')}</th><th scope="col">${t(lang, 'consents.service')}</th><th scope="col">${t(lang, 'consents.decision')}</th><th scope="col">${t(lang, 'consents.what')}</th><th scope="col">${t(lang, 'consents.receipt')}</th></tr></thead>
<tbody>${v.records.map((r) => {
  const items = itemsOf(lang, v.catalogue, r.decision === 'denied' || r.decision === 'revoked' ? r.requested : r.granted);
  return html`<tr>
  <td>${when(lang, r.recordedAt)}</td>
  <td>${v.clientNames.get(r.clientId) ?? r.clientId}</td>
  <td>${label(lang, 'consents.decision', r.decision)}${r.action === 'merge' ? html` <span class="muted">(${t(lang, 'consents.added')})</span>` : ''}</td>
  <td>${items.length ? items.join(lang === 'ja' ? '、' : ', ') : '—'}</td>
  <td><a href="/account/consents/receipt?id=${r.id}" download="consent-receipt-${r.id}.jwt" aria-label="${t(lang, 'consents.receipt.named', { when: r.recordedAt.toISOString().slice(0, 10) })}">${t(lang, 'consents.receipt.download')}</a></td>
</tr>`;
})}</tbody>
</table>` : html`<p>${t(lang, 'consents.none')}</p>`}
<p class="muted">${t(lang, 'consents.receipt.help')}</p>
</section>`);
}
