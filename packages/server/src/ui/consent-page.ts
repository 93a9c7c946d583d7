import { formatDate } from './dates.ts';
import { t, type Lang } from './i18n.ts';
import { html, page, Html } from './html.ts';
import type { Catalogue, CatalogueEntry } from '../consent/catalogue.ts';
import type { ConsentItem, ConsentRequest, DetailItem } from '../consent/consent-request.ts';
import type { AuthorizationDetailType } from '../consent/authorization-details/types.ts';
import type { ConsentScope } from '../consent/ledger.ts';
import { CONSENTED_PREFIX } from '../identity/verified-claims.ts';

export interface ConsentPageInput {
  uid: string;
  csrf: string;
  /** The hash of `request`: posted back, so the decision is read against the screen the person saw. */
  shown: string;
  request: ConsentRequest;
  catalogue: Catalogue;
  detailType: (type: string) => AuthorizationDetailType | undefined;
  /** The organisation running this server (the data holder). */
  operator: string;
  /** A decision that could not be taken as posted: the screen is shown again with this message. */
  problem?: string | undefined;
  now?: Date;
  /** Where the form posts and the language switch goes (default: the browser interaction's). */
  endpoints?: { confirm: string; deny: string; langSwitch: string } | undefined;
  /** Shown first (the device app: the binding message, on whose behalf, the time left). */
  preface?: Html | undefined;
  /** A delegate decides: the person whose information it is (named in the lead). */
  onBehalfOf?: string | undefined;
  /** Page chrome (the device app adds its manifest and script). */
  pageOptions?: Parameters<typeof page>[3] | undefined;
}

/**
 * The consent screen (ISO/IEC 29184; consent.md "The consent screen", items 1–7 and 9–11): who
 * asks, which account decides, what (optional and sensitive items as unticked choices), why, how
 * long, where else the data goes, what changes, the decision with Deny as prominent as Allow, how
 * to withdraw, and the exact notice version. One form; both buttons submit it.
 */
export function consentPage(lang: Lang, v: ConsentPageInput): string {
  const { request: r, catalogue } = v;
  const notice = r.notice?.content;
  const service = notice ? notice.serviceName[lang] : r.clientName;
  const purposes = new Map((notice?.purposes ?? []).map((p) => [p.id, p.text[lang]]));
  const purposeLine = (ids: string[]) => ids.length ? html`<br><span class="muted">${t(lang, 'consent.for', { purposes: ids.map((id) => purposes.get(id) ?? id).join('、') })}</span>` : '';
  const required = r.items.filter((i) => !i.choice);
  const choices = r.items.filter((i) => i.choice && i.kind !== 'verified');
  const verified = r.items.filter((i) => i.kind === 'verified');
  const labelOf = (i: ConsentItem): CatalogueEntry => i.kind === 'verified' ? catalogue.claim(`${CONSENTED_PREFIX}${i.name}`) : i.kind === 'claim' ? catalogue.claim(i.name) : catalogue.scope(i.name);
  const describe = (i: ConsentItem) => {
    const e = labelOf(i);
    return html`<span class="item-label">${e.short[lang]}</span>${e.sensitive ? html` <span class="badge sensitive">${t(lang, 'consent.sensitive')}</span>` : ''}
      ${i.choice ? html` <span class="badge">${t(lang, i.optional ? 'consent.optional' : 'consent.required')}</span>` : ''}
      <br><span class="muted">${e.long[lang]}</span>${i.statedPurpose ? html`<br><span class="muted">${t(lang, 'consent.purpose', { purpose: i.statedPurpose })}</span>` : ''}${purposeLine(i.purposes)}`;
  };

  const choice = (i: ConsentItem) => {
    const id = `item-${r.items.indexOf(i)}`;
    return html`<div class="choice"><input type="checkbox" name="item" value="${i.key}" id="${id}"> <label for="${id}">${describe(i)}</label></div>`;
  };
  const endpoints = v.endpoints ?? { confirm: `/interaction/${v.uid}/confirm`, deny: `/interaction/${v.uid}/abort`, langSwitch: `/interaction/${v.uid}?lang=${lang === 'ja' ? 'en' : 'ja'}` };
  const body = html`${v.preface ?? ''}
<p>${v.onBehalfOf ? t(lang, 'consent.lead.for', { client: service, name: v.onBehalfOf }) : t(lang, 'consent.lead', { client: service })}</p>
<p class="muted">${t(lang, 'consent.account', { username: r.username })}</p>
${v.problem ? html`<p class="alert" role="alert">${t(lang, `consent.problem.${v.problem}`)}</p>` : ''}
<form method="post" action="${endpoints.confirm}" id="consent-form">
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="shown" value="${v.shown}">
<section aria-labelledby="c-who"><h2 id="c-who">${t(lang, 'consent.who')}</h2>
${notice ? html`<p><strong>${notice.serviceName[lang]}</strong> — ${notice.legalName[lang]}</p>
<ul class="plain">${notice.registrationNumber ? html`<li>${t(lang, 'consent.registration', { number: notice.registrationNumber })}</li>` : ''}<li>${t(lang, 'consent.contact', { contact: notice.contact })}</li></ul>`
  : html`<p><strong>${r.clientName}</strong></p><p class="muted">${t(lang, 'consent.no-notice', { service })}</p>`}
<p class="muted">${t(lang, 'consent.third-party', { service, operator: v.operator })}</p>
</section>
<section aria-labelledby="c-what"><h2 id="c-what">${t(lang, 'consent.what')}</h2>
${required.length ? html`<p>${t(lang, 'consent.what.required')}</p><ul class="items asked">${required.map((i) => html`<li>${describe(i)}</li>`)}</ul>` : ''}
${choices.length ? html`<fieldset class="choices"><legend>${t(lang, 'consent.what.choose')}</legend>${choices.map((i) => choice(i))}</fieldset>` : ''}
${verified.length ? html`<fieldset class="choices"><legend>${t(lang, 'consent.verified')}</legend><p class="muted">${t(lang, 'consent.verified.lead')}</p>${verified.map((i) => choice(i))}</fieldset>` : ''}
${r.details.length ? html`<p>${t(lang, 'consent.details')}</p>${r.details.map((d) => detailBlock(lang, d, v.detailType, purposeLine))}` : ''}
${changes(lang, r, service, catalogue, v.detailType)}
</section>
${notice ? html`<section aria-labelledby="c-why"><h2 id="c-why">${t(lang, 'consent.why')}</h2><ul class="items">${notice.purposes.map((p) => html`<li>${p.text[lang]}</li>`)}</ul></section>` : ''}
<section aria-labelledby="c-long"><h2 id="c-long">${t(lang, 'consent.how-long')}</h2>
${duration(lang, r, v.now ?? new Date())}
${notice ? html`<p class="muted">${notice.keepsData ? t(lang, 'consent.keeps', { service, retention: notice.retention[lang] }) : t(lang, 'consent.keeps-not', { service })}</p>` : ''}
</section>
${notice ? html`<section aria-labelledby="c-where"><h2 id="c-where">${t(lang, 'consent.where')}</h2>
${notice.recipients.length ? html`<ul class="items">${notice.recipients.map((p) => html`<li>${t(lang, 'consent.recipient', { name: p.name[lang], country: p.jurisdiction, purpose: p.purpose[lang] })}</li>`)}</ul>` : html`<p>${t(lang, 'consent.recipients.none', { service })}</p>`}
<p class="muted">${t(lang, 'consent.jurisdiction', { country: notice.jurisdiction })}</p></section>` : ''}
<p class="muted">${t(lang, 'consent.withdraw')} <a href="/account/consents">${t(lang, 'consent.withdraw.link')}</a></p>
${r.notice ? html`<p><a href="/notices/${encodeURIComponent(r.clientId)}/${r.notice.version}" target="_blank" rel="noopener">${t(lang, 'consent.notice.link', { version: String(r.notice.version) })}</a></p>` : ''}
<div class="actions">
  <button class="primary" type="submit" formaction="${endpoints.deny}" formnovalidate>${t(lang, 'consent.deny')}</button>
  <button class="primary" type="submit" id="consent-allow">${t(lang, 'consent.allow')}</button>
</div>
</form>`;
  return page(lang, t(lang, 'consent.title'), body, { ...v.pageOptions, langSwitchHref: endpoints.langSwitch });
}

/** One authorization detail: what it is, its specifics, and the person's choices for it (none pre-selected). */
function detailBlock(lang: Lang, d: DetailItem, detailType: ConsentPageInput['detailType'], purposeLine: (ids: string[]) => Html | string): Html {
  const type = detailType(d.type)!;
  const id = (g: string, n: number) => `ad-${d.index}-${g}-${n}`;
  return html`<div class="detail">
<p><span class="item-label">${type.title?.(lang, d.detail) ?? type.label.short[lang]}</span>${type.label.sensitive ? html` <span class="badge sensitive">${t(lang, 'consent.sensitive')}</span>` : ''}<br><span class="muted">${type.label.long[lang]}</span>${purposeLine(d.purposes)}</p>
${new Html(String(type.render(lang, d.detail)))}
${d.optional ? html`<div class="choice"><input type="checkbox" name="ad.${d.index}.include" value="yes" id="ad-${d.index}-include"> <label for="ad-${d.index}-include">${t(lang, 'consent.detail.include')}</label></div>` : ''}
${d.groups.map((g) => html`<fieldset class="choices"><legend>${g.label[lang]}</legend>
${g.options.length === 0 ? html`<p class="muted">${t(lang, 'consent.choose.none')}</p>` : g.options.map((o, n) => html`<div class="choice"><input type="${g.multiple ? 'checkbox' : 'radio'}" name="ad.${d.index}.${g.name}" value="${o.id}" id="${id(g.name, n)}"> <label for="${id(g.name, n)}">${o.label}</label></div>`)}
</fieldset>`)}
</div>`;
}

function duration(lang: Lang, r: ConsentRequest, now: Date): Html {
  const d = r.duration;
  if (d.fixed || (r.action !== 'create' && !d.onceOnly)) return html`<p>${t(lang, r.action === 'replace' ? 'consent.replace.fixed' : 'consent.ongoing.fixed')}</p>`;
  if (d.onceOnly) return html`<p>${t(lang, 'consent.once.only')}</p>`;
  const until = (days: number) => formatDate(lang, new Date(now.getTime() + days * 86_400_000));
  return html`<fieldset class="choices"><legend class="visually-hidden">${t(lang, 'consent.how-long')}</legend>
<div class="choice"><input type="radio" name="duration" value="once" id="duration-once" required> <label for="duration-once">${t(lang, 'consent.once')}</label></div>
<div class="choice"><input type="radio" name="duration" value="ongoing" id="duration-ongoing"> <label for="duration-ongoing">${t(lang, d.ongoingOffered ? 'consent.ongoing' : 'consent.session')}</label>
<select name="expires_days" aria-label="${t(lang, 'consent.how-long')}">${d.choices.map((days) => html`<option value="${days}">${t(lang, days === 1 ? 'consent.day' : 'consent.days', { days: String(days), date: until(days) })}</option>`)}</select></div>
</fieldset>`;
}

/** What changes: for a merge what is kept, for a replace what is removed. */
function changes(lang: Lang, r: ConsentRequest, service: string, catalogue: Catalogue, detailType: ConsentPageInput['detailType']): Html {
  const lead = t(lang, `consent.changes.${r.action}`, { service, version: String(r.notice?.version ?? '') })
    + (r.noticeChanged && r.action !== 'reconsent' ? ` ${t(lang, 'consent.changes.reconsent', { service, version: String(r.notice?.version ?? '') })}` : '');
  const list = (s: ConsentScope) => {
    const lines = [
      ...s.scopes.filter((x) => x !== 'openid' && x !== 'offline_access').map((x) => catalogue.scope(x).short[lang]),
      ...s.claims.filter((x) => x !== 'verified_claims').map((x) => catalogue.claim(x).short[lang]),
      ...Object.values(s.resources).flat().map((x) => catalogue.scope(x).short[lang]),
      ...s.authorizationDetails.map((d) => detailType(String(d.type))?.summary(lang, d) ?? String(d.type)),
    ];
    return lines;
  };
  const kept = list(r.kept);
  const removed = list(r.removed);
  return html`<h3>${t(lang, 'consent.changes')}</h3><p>${lead}</p>
${kept.length ? html`<p>${t(lang, 'consent.kept')}</p><ul class="items">${kept.map((x) => html`<li>${x}</li>`)}</ul>` : ''}
${removed.length ? html`<p>${t(lang, 'consent.removed')}</p><ul class="items removed">${removed.map((x) => html`<li>${x}</li>`)}</ul>` : ''}`;
}
