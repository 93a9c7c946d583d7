import { html, page } from './html.ts';
import { t, type Lang } from './i18n.ts';
import { passkeyCeremony } from './sign-in-page.ts';

const alert = (error?: string) => (error ? html`<p class="alert" role="alert" id="form-error">${error}</p>` : '');

export function signupEmailPage(lang: Lang, v: { csrf: string; email?: string; name?: string; error?: string }): string {
  return page(lang, t(lang, 'signup.title'), html`
<p>${t(lang, 'signup.lead')}</p>
${alert(v.error)}
<form method="post" action="/signup" novalidate>
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="email">${t(lang, 'signup.email')}</label>
  <input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${v.email ?? ''}" ${v.error ? html`aria-describedby="form-error"` : ''}>
  <label for="name">${t(lang, 'signup.name')}</label>
  <input id="name" name="name" type="text" autocomplete="name" maxlength="100" value="${v.name ?? ''}">
  <div class="actions"><button class="primary" type="submit">${t(lang, 'signup.send')}</button></div>
</form>`, { langSwitchHref: `/signup?lang=${lang === 'ja' ? 'en' : 'ja'}` });
}

export function signupCodePage(lang: Lang, v: { csrf: string; email: string; error?: string }): string {
  return page(lang, t(lang, 'signup.code.title'), html`
<p>${t(lang, 'signup.code.lead', { email: v.email })}</p>
${alert(v.error)}
<form method="post" action="/signup/verify" novalidate>
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="code">${t(lang, 'signup.code')}</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="10" ${v.error ? html`aria-describedby="form-error"` : ''}>
  <div class="actions"><button class="primary" type="submit">${t(lang, 'signup.verify')}</button></div>
</form>
<p class="links"><a href="/signup">${t(lang, 'signup.restart')}</a></p>`, { langSwitchHref: `/signup/verify?lang=${lang === 'ja' ? 'en' : 'ja'}` });
}

export function signupPasskeyPage(lang: Lang, v: { csrf: string; email: string; options: unknown; error?: string }): string {
  return page(lang, t(lang, 'signup.passkey.title'), html`
<p>${t(lang, 'signup.passkey.lead')}</p>
<p class="muted">${t(lang, 'consent.account', { username: v.email })}</p>
${alert(v.error)}
${passkeyCeremony(lang, { options: v.options, action: '/signup/passkey', csrf: v.csrf, mode: 'create', label: t(lang, 'signup.passkey.create') })}
<p class="muted">${t(lang, 'signup.passkey.help')}</p>`, { langSwitchHref: `/signup/passkey?lang=${lang === 'ja' ? 'en' : 'ja'}` });
}

export function signupDonePage(lang: Lang, v: { email: string }): string {
  return page(lang, t(lang, 'signup.done.title'), html`
<p class="notice">${t(lang, 'signup.done.lead', { email: v.email })}</p>`);
}

export function messagePage(lang: Lang, title: string, message: string): string {
  return page(lang, title, html`<p>${message}</p>`);
}
