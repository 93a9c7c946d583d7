import { parseNoticeRef } from '../../consent/notices.ts';
import { formatDate } from '../dates.ts';
import { detailHash, type GrantSummary } from '../../consent/grants.ts';
import type { ConsentRecord, ConsentScope } from '../../consent/ledger.ts';
import type { Catalogue } from '../../consent/catalogue.ts';
import type { AuthorizationDetailTypes } from '../../consent/authorization-details/registry.ts';
import { html, type Html } from '../html.ts';
import { hasMessage, t, type Lang } from '../i18n.ts';
import { accountPage, alert, csrfField, when } from './shell.ts';

/** How far from now an ongoing grant's end can be brought forward to (only those earlier than its end are offered). */
export const SHORTEN_DAYS: readonly number[] = [365, 180, 90, 30, 7, 1];

export interface ConsentsView {
  csrf: string;
  catalogue: Catalogue;
  detailTypes: AuthorizationDetailTypes;
  /** Grants the services can use now. */
  grants: GrantSummary[];
  /** Grants that ended (withdrawn, used, expired), newest first. */
  ended: GrantSummary[];
  records: ConsentRecord[];
  clientNames: Map<string, string>;
  /** Names of the guardians or proxies who gave consents for this person. */
  actorNames?: Map<string, string>;
  done?: string | undefined;
  error?: string;
  now?: Date;
}

type Words = Pick<ConsentsView, 'catalogue' | 'detailTypes'>;

const label = (lang: Lang, prefix: string, value: string) => (hasMessage(`${prefix}.${value}`) ? t(lang, `${prefix}.${value}`) : value);

/**
 * A grant's parts in words, each with the value that withdraws it on its own: scopes and claims
 * from the catalogue, an authorization detail by its type's plain summary (which accounts, which
 * patient). Signing in itself (openid) is not a part.
 */
function partsIn(lang: Lang, w: Words, parts: ConsentScope): Array<{ label: string; value: string }> {
  return [
    ...parts.scopes.filter((s) => s !== 'openid').map((s) => ({ label: w.catalogue.scope(s).short[lang], value: `scope:${s}` })),
    ...parts.claims.map((c) => ({ label: w.catalogue.claim(c).short[lang], value: `claim:${c}` })),
    ...Object.entries(parts.resources).flatMap(([r, list]) => list.map((s) => ({ label: w.catalogue.scope(s).short[lang], value: `resource:${r} ${s}` }))),
    ...parts.authorizationDetails.map((d) => ({
      label: w.detailTypes.get(String(d.type))?.summary(lang, d) ?? String(d.type), value: `detail:${detailHash(d)}`,
    })),
  ];
}

/** What a grant or decision concerned, without the duration (shown as a badge or a date instead). */
function itemsOf(lang: Lang, w: Words, parts: ConsentScope): string[] {
  return partsIn(lang, w, parts).filter((p) => p.value !== 'scope:offline_access').map((p) => p.label);
}

const joined = (lang: Lang, items: string[]) => items.join(lang === 'ja' ? '、' : ', ');

function day(lang: Lang, date: Date): string {
  return formatDate(lang, date);
}

/** The ends an ongoing grant can be brought forward to: earlier than its end, with a minute to spare. */
function shorterEnds(g: GrantSummary, now: Date): number[] {
  if (!g.ongoing) return [];
  return SHORTEN_DAYS.filter((days) => !g.expiresAt || now.getTime() + days * 86_400_000 + 60_000 < g.expiresAt.getTime());
}

function activeGrant(lang: Lang, v: ConsentsView, g: GrantSummary, n: number, now: Date): Html {
  const name = v.clientNames.get(g.clientId) ?? g.clientId;
  const parts = partsIn(lang, v, g.parts);
  const items = parts.filter((p) => p.value !== 'scope:offline_access').map((p) => p.label);
  const ends = shorterEnds(g, now);
  return html`<li>
  <div class="grant-head"><h3>${name}</h3><span class="badge">${t(lang, g.ongoing ? 'consents.ongoing' : 'consents.once')}</span></div>
  ${parts.length > 1 ? html`<ul class="parts">${parts.map((part) => html`<li><span>${part.label}</span>
    <form method="post" action="/account/consents/withdraw-part" class="inline">${csrfField(v.csrf)}<input type="hidden" name="id" value="${g.id}"><input type="hidden" name="part" value="${part.value}">
      <button class="link small" type="submit" aria-label="${t(lang, 'consents.withdraw-part-named', { part: part.label, client: name })}">${t(lang, 'consents.withdraw-part')}</button></form></li>`)}</ul>`
    : html`<p>${items.length ? items[0] : t(lang, 'consents.sign-in-only')}</p>`}
  ${g.actor ? html`<p class="muted">${t(lang, 'consents.given-by', { name: v.actorNames?.get(g.actor) ?? '' })}</p>` : ''}
  <p class="muted">${t(lang, 'consents.since')} ${when(lang, g.createdAt)} · ${t(lang, 'consents.last-used')} ${when(lang, g.lastUsedAt)} · ${t(lang, 'consents.until')} ${g.expiresAt ? when(lang, g.expiresAt) : t(lang, 'consents.until-withdrawn')}</p>
  <div class="grant-actions">
  ${ends.length ? html`<form method="post" action="/account/consents/shorten" class="inline shorten">${csrfField(v.csrf)}<input type="hidden" name="id" value="${g.id}">
    <label for="shorten-${n}">${t(lang, 'consents.shorten.label')}</label>
    <select name="days" id="shorten-${n}">${ends.map((days) => html`<option value="${days}">${t(lang, days === 1 ? 'consents.shorten.option.one' : 'consents.shorten.option', { days: String(days), date: day(lang, new Date(now.getTime() + days * 86_400_000)) })}</option>`)}</select>
    <button class="secondary small" type="submit" aria-label="${t(lang, 'consents.shorten.named', { client: name })}">${t(lang, 'consents.shorten.submit')}</button></form>` : ''}
  <form method="post" action="/account/consents/revoke" class="inline">${csrfField(v.csrf)}<input type="hidden" name="id" value="${g.id}">
    <button class="secondary small" type="submit" aria-label="${t(lang, 'consents.revoke-named', { client: name })}">${t(lang, 'consents.revoke')}</button></form>
  </div>
</li>`;
}

/** How a grant ended, and when, in words: withdrawn (by whom), used once, or expired. */
function endedGrant(lang: Lang, v: ConsentsView, g: GrantSummary): Html {
  const name = v.clientNames.get(g.clientId) ?? g.clientId;
  const items = itemsOf(lang, v, g.parts);
  const how = g.status === 'used' ? 'used' : g.status === 'expired' ? 'expired'
    : g.endedBy && hasMessage(`consents.ended.${g.endedBy}`) ? g.endedBy : 'revoked';
  const at = g.status === 'used' ? html`${t(lang, 'consents.used-on')} ${when(lang, g.lastUsedAt ?? g.endedAt)}` : html`${t(lang, 'consents.ended-on')} ${when(lang, g.endedAt)}`;
  return html`<li>
  <div class="grant-head"><h3>${name}</h3><span class="badge ended">${t(lang, `consents.ended.${how}`)}</span></div>
  <p>${items.length ? joined(lang, items) : t(lang, 'consents.sign-in-only')}</p>
  <p class="muted">${t(lang, 'consents.since')} ${when(lang, g.createdAt)} · ${at}</p>
</li>`;
}

/** A history row's note: a merge added to a consent; a change of end date says the new date. */
function recordNote(lang: Lang, r: ConsentRecord): Html | string {
  if (r.action === 'merge') return html` <span class="muted">(${t(lang, 'consents.added')})</span>`;
  const until = r.context.expiresAt;
  if (r.action === 'replace' && 'previousExpiresAt' in r.context && typeof until === 'string' && !Number.isNaN(Date.parse(until))) {
    return html` <span class="muted">(${t(lang, 'consents.shortened', { date: day(lang, new Date(until)) })})</span>`;
  }
  return '';
}

/**
 * The person's consents: the services that can reach their data now (each withdrawable whole or in
 * part, its end brought forward), the consents that ended, then every decision the ledger holds
 * about them, newest first, each with its signed receipt.
 */
export function consentsPage(lang: Lang, v: ConsentsView): string {
  const now = v.now ?? new Date();
  return accountPage(lang, { section: 'consents', csrf: v.csrf, self: '/account/consents', done: v.done, title: t(lang, 'account.section.consents') }, html`
${alert(v.error)}
<section aria-labelledby="grants-h">
<h2 id="grants-h">${t(lang, 'consents.active')}</h2>
${v.grants.length ? html`<ul class="grants" id="grants">${v.grants.map((g, n) => activeGrant(lang, v, g, n, now))}</ul>` : html`<p>${t(lang, 'consents.active.none')}</p>`}
<p class="muted">${t(lang, 'consents.revoke.help')}</p>
</section>
<section aria-labelledby="ended-h">
<h2 id="ended-h">${t(lang, 'consents.ended')}</h2>
<p class="muted">${t(lang, 'consents.ended.lead')}</p>
${v.ended.length ? html`<ul class="grants ended" id="ended-grants">${v.ended.map((g) => endedGrant(lang, v, g))}</ul>` : html`<p>${t(lang, 'consents.ended.none')}</p>`}
</section>
<section aria-labelledby="history-h">
<h2 id="history-h">${t(lang, 'consents.history')}</h2>
<p class="muted">${t(lang, 'consents.history.lead')}</p>
${v.records.length ? html`<table class="list" id="consent-history">
<thead><tr><th scope="col">${t(lang, 'account.when')}</th><th scope="col">${t(lang, 'consents.service')}</th><th scope="col">${t(lang, 'consents.decision')}</th><th scope="col">${t(lang, 'consents.what')}</th><th scope="col">${t(lang, 'consents.receipt')}</th></tr></thead>
<tbody>${v.records.map((r) => {
  const items = itemsOf(lang, v, r.decision === 'denied' || r.decision === 'revoked' ? r.requested : r.granted);
  return html`<tr>
  <td>${when(lang, r.recordedAt)}</td>
  <td>${v.clientNames.get(r.clientId) ?? r.clientId}</td>
  <td>${label(lang, 'consents.decision', r.decision)}${recordNote(lang, r)}</td>
  <td>${items.length ? joined(lang, items) : '—'}</td>
  <td><a href="/account/consents/receipt?id=${r.id}" download="consent-receipt-${r.id}.jwt" aria-label="${t(lang, 'consents.receipt.named', { when: r.recordedAt.toISOString().slice(0, 10) })}">${t(lang, 'consents.receipt.download')}</a>${noticeLink(lang, r.noticeVersion)}</td>
</tr>`;
})}</tbody>
</table>` : html`<p>${t(lang, 'consents.none')}</p>`}
<p class="muted">${t(lang, 'consents.receipt.help')}</p>
</section>`);
}

/** The notice version a decision was made under, as the person saw it then. */
function noticeLink(lang: Lang, noticeVersion: string | null) {
  const ref = noticeVersion ? parseNoticeRef(noticeVersion) : undefined;
  return ref ? html`<br><a href="/notices/${encodeURIComponent(ref.clientId)}/${ref.version}">${t(lang, 'consents.notice', { version: String(ref.version) })}</a>` : '';
}
