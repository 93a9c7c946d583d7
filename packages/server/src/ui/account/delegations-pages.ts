import { delegationState, whoMayEnd, type DelegationListing } from '../../consent/delegations.ts';
import type { Catalogue } from '../../consent/catalogue.ts';
import type { AuthorizationDetailTypes } from '../../consent/authorization-details/registry.ts';
import { formatDate } from '../dates.ts';
import { html, type Html } from '../html.ts';
import { t, type Lang } from '../i18n.ts';
import { accountPage, alert, csrfField } from './shell.ts';

export interface DelegationsView {
  csrf: string;
  accountId: string;
  catalogue: Catalogue;
  detailTypes: AuthorizationDetailTypes;
  /** Delegations the person gave (or that were registered for them): others may act for them. */
  actingForMe: DelegationListing[];
  /** Delegations the person holds: they may act for others. */
  iActFor: DelegationListing[];
  done?: string | undefined;
  error?: string;
  now?: Date;
}

type Side = 'principal' | 'delegate';

const joined = (lang: Lang, items: string[]) => items.join(lang === 'ja' ? '、' : ', ');
const personOf = (d: DelegationListing, side: Side) =>
  side === 'principal' ? d.principalName ?? d.principalUsername : d.delegateName ?? d.delegateUsername;

/** What the delegate may allow, in the catalogue's words; signing in alone when the lists are empty. */
function limits(lang: Lang, v: DelegationsView, d: DelegationListing): string {
  const scopes = (d.constraints.scopes ?? []).filter((s) => s !== 'openid').map((s) => v.catalogue.scope(s).short[lang]);
  const types = (d.constraints.authorizationDetailTypes ?? []).map((type) => v.detailTypes.get(type)?.label.short[lang] ?? type);
  const items = [...scopes, ...types];
  const allowed = items.length ? t(lang, 'delegations.limits.items', { items: joined(lang, items) }) : t(lang, 'delegations.limits.sign-in-only');
  return d.constraints.excludeSensitive && items.length ? `${allowed} ${t(lang, 'delegations.limits.not-sensitive')}` : allowed;
}

function validity(lang: Lang, d: DelegationListing): string {
  const from = formatDate(lang, d.validFrom);
  return d.validUntil ? t(lang, 'delegations.valid.until', { from, until: formatDate(lang, d.validUntil) }) : t(lang, 'delegations.valid.open', { from });
}

/** Who ended it, seen from this page: you, the other person by name, or the operator (with the operator's reason). */
function endedNote(lang: Lang, d: DelegationListing, mySide: Side): Html {
  const by = d.endedBy === mySide ? t(lang, 'delegations.by.you')
    : d.endedBy === 'principal' || d.endedBy === 'delegate' ? personOf(d, d.endedBy) : t(lang, 'delegations.by.operator');
  const on = d.endedAt ? formatDate(lang, d.endedAt) : '—';
  const reason = d.endedBy !== 'principal' && d.endedBy !== 'delegate' && d.endReason ? d.endReason : undefined;
  return html`<p class="muted">${t(lang, 'delegations.ended-by', { by, date: on })}${reason ? html` ${t(lang, 'delegations.reason', { reason })}` : ''}</p>`;
}

/** The form that ends it, the reason it cannot be ended here, or nothing once it has ended. */
function action(lang: Lang, v: DelegationsView, d: DelegationListing, other: string): Html | string {
  if (d.status === 'ended') return '';
  const who = whoMayEnd(d, v.accountId);
  if (who === 'operator-only') return html`<p class="muted">${t(lang, 'delegations.operator-only')}</p>`;
  if (who === 'unrelated') return '';
  const label = t(lang, who === 'delegate' ? 'delegations.resign' : 'delegations.end');
  return html`<form method="post" action="/account/delegations/end" class="inline">${csrfField(v.csrf)}<input type="hidden" name="id" value="${d.id}">
    <button class="secondary small" type="submit" aria-label="${t(lang, who === 'delegate' ? 'delegations.resign-named' : 'delegations.end-named', { name: other })}">${label}</button></form>`;
}

function item(lang: Lang, v: DelegationsView, d: DelegationListing, mySide: Side, now: Date): Html {
  const other = personOf(d, mySide === 'principal' ? 'delegate' : 'principal');
  const state = delegationState(d, now);
  return html`<li id="${d.id}">
  <div class="grant-head"><h3>${other}</h3><span class="badge">${t(lang, `delegations.relationship.${d.relationship}`)}</span><span class="badge${state === 'active' ? '' : ' ended'}">${t(lang, `delegations.state.${state}`)}</span></div>
  <dl class="facts">
    <dt>${t(lang, 'delegations.limits')}</dt><dd>${limits(lang, v, d)}</dd>
    <dt>${t(lang, 'delegations.valid')}</dt><dd>${validity(lang, d)}</dd>
    <dt>${t(lang, 'delegations.evidence')}</dt><dd>${t(lang, 'delegations.evidence.text', { evidence: d.evidence, by: d.verifiedBy, date: formatDate(lang, d.verifiedAt) })}</dd>
  </dl>
  ${d.status === 'ended' ? endedNote(lang, d, mySide) : ''}
  <div class="grant-actions">${action(lang, v, d, other)}</div>
</li>`;
}

/**
 * The person's delegations, both ways: who may act for them (a parent, a guardian, a proxy, a
 * caregiver) and for whom they may act, each with its limits, its evidence and its status; ended
 * ones stay listed with who ended them.
 */
export function delegationsPage(lang: Lang, v: DelegationsView): string {
  const now = v.now ?? new Date();
  return accountPage(lang, { section: 'delegations', csrf: v.csrf, self: '/account/delegations', done: v.done, title: t(lang, 'account.section.delegations') }, html`
${alert(v.error)}
<section aria-labelledby="for-me-h">
<h2 id="for-me-h">${t(lang, 'delegations.for-me')}</h2>
<p class="muted">${t(lang, 'delegations.for-me.lead')}</p>
${v.actingForMe.length ? html`<ul class="grants" id="acting-for-me">${v.actingForMe.map((d) => item(lang, v, d, 'principal', now))}</ul>` : html`<p>${t(lang, 'delegations.for-me.none')}</p>`}
</section>
<section aria-labelledby="i-act-h">
<h2 id="i-act-h">${t(lang, 'delegations.i-act')}</h2>
<p class="muted">${t(lang, 'delegations.i-act.lead')}</p>
${v.iActFor.length ? html`<ul class="grants" id="i-act-for">${v.iActFor.map((d) => item(lang, v, d, 'delegate', now))}</ul>` : html`<p>${t(lang, 'delegations.i-act.none')}</p>`}
</section>
<p class="muted">${t(lang, 'delegations.add.help')}</p>`);
}
