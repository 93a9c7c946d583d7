import { hasMessage, t, type Lang } from './i18n.ts';
import { html, page } from './html.ts';

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

/** The basic consent page: who asks, which account decides, what is asked. Deny is as prominent as Allow. */
export function consentPage(lang: Lang, v: ConsentView): string {
  const scopeLabel = (s: string) => (hasMessage(`scope.${s}`) ? t(lang, `scope.${s}`) : s);
  return page(lang, t(lang, 'consent.title'), html`
<p>${t(lang, 'consent.lead', { client: v.clientName })}</p>
<p class="muted">${t(lang, 'consent.account', { username: v.username })}</p>
${v.scopes.length ? html`<h2>${t(lang, 'consent.scopes')}</h2><ul class="items">${v.scopes.map((s) => html`<li>${scopeLabel(s)}${scopeLabel(s) === s ? '' : html` <span class="muted">(${s})</span>`}</li>`)}</ul>` : ''}
${v.claims.length ? html`<h2>${t(lang, 'consent.claims')}</h2><ul class="items">${v.claims.map((c) => html`<li><code>${c}</code></li>`)}</ul>` : ''}
${v.verifiedClaims?.length ? html`<h2>${t(lang, 'consent.verified')}</h2><p class="muted">${t(lang, 'consent.verified.lead')}</p><ul class="items">${v.verifiedClaims.map((c) => html`<li><code>${c.claim}</code>${c.purpose ? html` <span class="muted">${t(lang, 'consent.purpose', { purpose: c.purpose })}</span>` : ''}</li>`)}</ul>` : ''}
${v.resources.length ? html`<h2>${t(lang, 'consent.resources')}</h2><ul class="items">${v.resources.map((r) => html`<li>${r.resource}${r.scopes.length ? html`: <code>${r.scopes.join(' ')}</code>` : ''}</li>`)}</ul>` : ''}
${v.scopes.includes('offline_access') ? html`<p class="muted">${t(lang, 'consent.offline')}</p>` : ''}
<div class="actions">
  <form method="post" action="/interaction/${v.uid}/abort"><input type="hidden" name="csrf" value="${v.csrf}"><button class="secondary" type="submit">${t(lang, 'consent.deny')}</button></form>
  <form method="post" action="/interaction/${v.uid}/confirm"><input type="hidden" name="csrf" value="${v.csrf}"><button class="primary" type="submit">${t(lang, 'consent.allow')}</button></form>
</div>`, { langSwitchHref: `/interaction/${v.uid}?lang=${lang === 'ja' ? 'en' : 'ja'}` });
}
