import { html, page, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';
import { passkeyCeremony } from './sign-in-page.ts';

const alert = (error?: string) => (error ? html`<p class="alert" role="alert" id="form-error">${error}</p>` : '');
const described = (error?: string) => (error ? html`aria-describedby="form-error"` : '');
const shell = (lang: Lang, title: string, self: string, body: Html) => page(lang, title, body, { langSwitchHref: `${self}?lang=${lang === 'ja' ? 'en' : 'ja'}` });

export function recoverEmailPage(lang: Lang, v: { csrf: string; email?: string; error?: string }): string {
  return shell(lang, t(lang, 'recover.title'), '/recover', html`
<p>${t(lang, 'recover.lead')}</p>
${alert(v.error)}
<form method="post" action="/recover" novalidate>
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="email">${t(lang, 'signup.email')}</label>
  <input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${v.email ?? ''}" ${described(v.error)}>
  <div class="actions"><button class="primary" type="submit">${t(lang, 'signup.send')}</button></div>
</form>
<p class="muted">${t(lang, 'recover.help')}</p>`);
}

export function recoverCodePage(lang: Lang, v: { csrf: string; email: string; error?: string }): string {
  return shell(lang, t(lang, 'signup.code.title'), '/recover/verify', html`
<p>${t(lang, 'recover.code.lead', { email: v.email })}</p>
${alert(v.error)}
<form method="post" action="/recover/verify" novalidate>
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="code">${t(lang, 'signup.code')}</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="10" ${described(v.error)}>
  <div class="actions"><button class="primary" type="submit">${t(lang, 'signup.verify')}</button></div>
</form>
<p class="links"><a href="/recover">${t(lang, 'signup.restart')}</a></p>`);
}

/** An account with two-step verification also needs its authenticator app or a recovery code. */
export function recoverSecondFactorPage(lang: Lang, v: { csrf: string; error?: string }): string {
  return shell(lang, t(lang, 'recover.second.title'), '/recover/second', html`
<p>${t(lang, 'recover.second.lead')}</p>
${alert(v.error)}
<form method="post" action="/recover/second" novalidate>
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="code">${t(lang, 'mfa.code')}</label>
  <input id="code" name="code" type="text" autocomplete="one-time-code" required maxlength="20" ${described(v.error)}>
  <p class="muted">${t(lang, 'mfa.recovery-hint')}</p>
  <div class="actions"><button class="primary" type="submit">${t(lang, 'mfa.submit')}</button></div>
</form>`);
}

export function recoverPasskeyPage(lang: Lang, v: { csrf: string; email: string; options: unknown; error?: string }): string {
  return shell(lang, t(lang, 'recover.passkey.title'), '/recover/passkey', html`
<p>${t(lang, 'recover.passkey.lead')}</p>
<p class="muted">${t(lang, 'consent.account', { username: v.email })}</p>
${alert(v.error)}
${passkeyCeremony(lang, { options: v.options, action: '/recover/passkey', csrf: v.csrf, mode: 'create', label: t(lang, 'signup.passkey.create') })}
<p class="muted">${t(lang, 'signup.passkey.help')}</p>`);
}
