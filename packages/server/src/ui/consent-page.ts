import { t, type Lang } from './i18n.ts';
import { html, page } from './html.ts';
import type { Catalogue, CatalogueEntry } from '../consent/catalogue.ts';

export interface ConsentView {
  uid: string;
  csrf: string;
  clientName: string;
  username: string;
  scopes: string[];
  claims: string[];
  resources: Array<{ resource: string; scopes: string[] }>;
  /** OpenID Connect for Identity Assurance claims asked for, each with the client's stated purpose. */
  verifiedClaims?: Array<{ claim: string; purpose?: string | undefined }>;
}

/** One thing asked for: its short label, a sensitivity mark, what it means, and an extra line (a purpose). */
function item(lang: Lang, e: CatalogueEntry, extra?: string) {
  return html`<li><span class="item-label">${e.short[lang]}</span>${e.sensitive ? html` <span class="badge sensitive">${t(lang, 'consent.sensitive')}</span>` : ''}
  <br><span class="muted">${e.long[lang]}</span>${extra ? html`<br><span class="muted">${extra}</span>` : ''}</li>`;
}

/** The basic consent page: who asks, which account decides, what is asked. Deny is as prominent as Allow. */
export function consentPage(lang: Lang, v: ConsentView, catalogue: Catalogue): string {
  return page(lang, t(lang, 'consent.title'), html`
<p>${t(lang, 'consent.lead', { client: v.clientName })}</p>
<p class="muted">${t(lang, 'consent.account', { username: v.username })}</p>
${v.scopes.length ? html`<h2>${t(lang, 'consent.scopes')}</h2><ul class="items asked">${v.scopes.filter((s) => s !== 'offline_access').map((s) => item(lang, catalogue.scope(s)))}</ul>` : ''}
${v.claims.length ? html`<h2>${t(lang, 'consent.claims')}</h2><ul class="items asked">${v.claims.map((c) => item(lang, catalogue.claim(c)))}</ul>` : ''}
${v.verifiedClaims?.length ? html`<h2>${t(lang, 'consent.verified')}</h2><p class="muted">${t(lang, 'consent.verified.lead')}</p><ul class="items asked">${v.verifiedClaims.map((c) => item(lang, catalogue.claim(c.claim), c.purpose ? t(lang, 'consent.purpose', { purpose: c.purpose }) : undefined))}</ul>` : ''}
${v.resources.length ? html`<h2>${t(lang, 'consent.resources')}</h2><ul class="items">${v.resources.map((r) => html`<li>${r.resource}${r.scopes.length ? html`: <code>${r.scopes.join(' ')}</code>` : ''}</li>`)}</ul>` : ''}
${v.scopes.includes('offline_access') ? html`<p class="muted">${t(lang, 'consent.offline')}</p>` : ''}
<div class="actions">
  <form method="post" action="/interaction/${v.uid}/abort"><input type="hidden" name="csrf" value="${v.csrf}"><button class="secondary" type="submit">${t(lang, 'consent.deny')}</button></form>
  <form method="post" action="/interaction/${v.uid}/confirm"><input type="hidden" name="csrf" value="${v.csrf}"><button class="primary" type="submit">${t(lang, 'consent.allow')}</button></form>
</div>`, { langSwitchHref: `/interaction/${v.uid}?lang=${lang === 'ja' ? 'en' : 'ja'}` });
}
