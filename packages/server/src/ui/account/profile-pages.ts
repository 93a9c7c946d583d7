import type { Account } from '../../identity/accounts.ts';
import { html, page } from '../html.ts';
import { t, type Lang } from '../i18n.ts';
import { accountPage, alert, csrfField, when } from './shell.ts';

interface Frame { csrf: string; done?: string | undefined }

/** The account's identity assurance: self-asserted (IAL1), or who verified it and when. */
export interface IdentityView { level: 'ial1' | 'ial2' | 'ial3'; verifiedAt?: Date; verifier?: string }

export function overviewPage(lang: Lang, v: Frame & { account: Account; identity: IdentityView; deletion: boolean; error?: string }): string {
  const a = v.account;
  return accountPage(lang, { section: 'profile', csrf: v.csrf, self: '/account', done: v.done, title: t(lang, 'account.title') }, html`
<section aria-labelledby="profile-h">
<h2 id="profile-h">${t(lang, 'account.profile')}</h2>
${alert(v.error)}
<form method="post" action="/account/profile" novalidate>
  ${csrfField(v.csrf)}
  <label for="name">${t(lang, 'account.name')}</label>
  <input id="name" name="name" type="text" autocomplete="name" maxlength="100" value="${a.claims.name ?? ''}" ${v.error ? html`aria-describedby="form-error"` : ''}>
  <div class="actions narrow"><button class="secondary" type="submit">${t(lang, 'account.save')}</button></div>
</form>
<dl class="facts">
  ${a.username !== a.email ? html`<dt>${t(lang, 'account.username')}</dt><dd>${a.username}</dd>` : ''}
  <dt>${t(lang, 'account.email')}</dt>
  <dd>${a.email ?? t(lang, 'account.email.none')} ${a.email ? html`<span class="badge">${t(lang, 'account.email.verified')}</span>` : ''}
    <a href="/account/email">${t(lang, a.email ? 'account.email.change' : 'account.email.add')}</a></dd>
  <dt>${t(lang, 'account.identity')}</dt>
  <dd id="identity-level">${t(lang, `account.identity.${v.identity.level}`)}${v.identity.verifiedAt ? html`<br><span class="muted">${t(lang, 'account.identity.by', { verifier: v.identity.verifier ?? '' })} · ${when(lang, v.identity.verifiedAt)}</span>` : ''}</dd>
</dl>
</section>
<section aria-labelledby="more-h">
<h2 id="more-h">${t(lang, 'account.more')}</h2>
<ul class="items">
  <li><a href="/account/security">${t(lang, 'account.more.security')}</a></li>
  <li><a href="/account/activity">${t(lang, 'account.more.activity')}</a></li>
  <li><a href="/account/devices">${t(lang, 'account.more.devices')}</a></li>
  <li><a href="/account/consents">${t(lang, 'account.more.consents')}</a></li>
  ${v.deletion ? html`<li><a href="/account/delete">${t(lang, 'account.delete.link')}</a></li>` : ''}
</ul>
</section>`);
}

export function emailPage(lang: Lang, v: Frame & { current: string | null; email?: string; error?: string }): string {
  return accountPage(lang, { section: undefined, csrf: v.csrf, self: '/account/email', title: t(lang, 'account.email.title') }, html`
<p>${t(lang, 'account.email.lead')}</p>
${v.current ? html`<p class="muted">${t(lang, 'account.email.current', { email: v.current })}</p>` : ''}
${alert(v.error)}
<form method="post" action="/account/email" novalidate>
  ${csrfField(v.csrf)}
  <label for="email">${t(lang, 'account.email.new')}</label>
  <input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${v.email ?? ''}" ${v.error ? html`aria-describedby="form-error"` : ''}>
  <div class="actions"><button class="primary" type="submit">${t(lang, 'signup.send')}</button></div>
</form>
<p class="links"><a href="/account">${t(lang, 'account.back')}</a></p>`);
}

export function emailCodePage(lang: Lang, v: Frame & { email: string; challenge: string; error?: string }): string {
  return accountPage(lang, { section: undefined, csrf: v.csrf, self: '/account/email', title: t(lang, 'signup.code.title') }, html`
<p>${t(lang, 'account.email.code-lead', { email: v.email })}</p>
${alert(v.error)}
<form method="post" action="/account/email/verify" novalidate>
  ${csrfField(v.csrf)}
  <input type="hidden" name="id" value="${v.challenge}">
  <input type="hidden" name="email" value="${v.email}">
  <label for="code">${t(lang, 'signup.code')}</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="10" ${v.error ? html`aria-describedby="form-error"` : ''}>
  <div class="actions"><button class="primary" type="submit">${t(lang, 'account.email.confirm')}</button></div>
</form>
<p class="links"><a href="/account/email">${t(lang, 'signup.restart')}</a></p>`);
}

export function deletePage(lang: Lang, v: Frame & { account: Account; error?: string }): string {
  return accountPage(lang, { section: undefined, csrf: v.csrf, self: '/account/delete', title: t(lang, 'account.delete.title') }, html`
<p>${t(lang, 'account.delete.lead')}</p>
<ul class="items">
  <li>${t(lang, 'account.delete.erased')}</li>
  <li>${t(lang, 'account.delete.revoked')}</li>
  <li>${t(lang, 'account.delete.kept')}</li>
</ul>
${alert(v.error)}
<form method="post" action="/account/delete" novalidate>
  ${csrfField(v.csrf)}
  <label for="confirm">${t(lang, 'account.delete.type', { email: v.account.email ?? v.account.username })}</label>
  <input id="confirm" name="confirm" type="text" autocomplete="off" autocapitalize="none" spellcheck="false" required maxlength="254" ${v.error ? html`aria-describedby="form-error"` : ''}>
  <div class="actions"><button class="danger" type="submit">${t(lang, 'account.delete.submit')}</button></div>
</form>
<p class="links"><a href="/account">${t(lang, 'account.delete.keep')}</a></p>`);
}

export function deletedPage(lang: Lang): string {
  return page(lang, t(lang, 'account.deleted.title'), html`<p class="notice" role="status">${t(lang, 'account.deleted.lead')}</p>`);
}
