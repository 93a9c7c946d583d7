import { html, page } from './html.ts';
import { t, type Lang } from './i18n.ts';

export function loginPage(lang: Lang, v: { uid: string; clientName: string; csrf: string; username?: string; error?: string }): string {
  return page(lang, t(lang, 'login.title'), html`
<p>${t(lang, 'login.lead', { client: v.clientName })}</p>
${v.error ? html`<p class="alert" role="alert" id="login-error">${v.error}</p>` : ''}
<form method="post" action="/interaction/${v.uid}/login" novalidate>
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="username">${t(lang, 'login.username')}</label>
  <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="100" value="${v.username ?? ''}" ${v.error ? html`aria-describedby="login-error"` : ''} autofocus>
  <label for="password">${t(lang, 'login.password')}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256">
  <div class="actions"><button class="primary" type="submit">${t(lang, 'login.submit')}</button></div>
</form>
<form method="post" action="/interaction/${v.uid}/abort" class="actions">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <button class="secondary" type="submit">${t(lang, 'login.cancel')}</button>
</form>`, { langSwitchHref: `/interaction/${v.uid}?lang=${lang === 'ja' ? 'en' : 'ja'}` });
}
