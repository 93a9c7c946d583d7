import { formatDateTime } from '../dates.ts';
import { describeDevice } from '../../identity/sign-in.ts';
import { hasMessage, t, type Lang } from '../i18n.ts';
import { html, page, type Html } from '../html.ts';

export type Section = 'profile' | 'security' | 'activity' | 'devices' | 'consents' | 'delegations';

const SECTIONS: Array<[Section, string]> = [
  ['profile', '/account'], ['security', '/account/security'], ['activity', '/account/activity'], ['devices', '/account/devices'], ['consents', '/account/consents'], ['delegations', '/account/delegations'],
];

/** A time in Japan time (ui/dates.ts); the <time> element carries the exact instant. */
export function when(lang: Lang, date: Date | null | undefined): Html | string {
  if (!date) return '—';
  const text = formatDateTime(lang, date);
  return html`<time datetime="${date.toISOString()}">${text}</time>`;
}

export function device(userAgent: string | null): string {
  return userAgent ? describeDevice(userAgent) : '—';
}

/** A sign-in method as recorded ('passkey', 'password+totp', …) in words. */
export function methodName(lang: Lang, method: string | null): string {
  if (!method) return '—';
  const key = `method.${method}`;
  return hasMessage(key) ? t(lang, key) : method;
}

/**
 * The account pages' frame: section navigation (the current one marked for screen readers), a
 * sign-out button, and the notice of what the last form did (`?done=`, known keys only).
 */
export function accountPage(lang: Lang, v: { section: Section | undefined; csrf: string; self: string; done?: string | undefined; title: string }, body: Html): string {
  const notice = v.done && /^[a-z-]{1,40}$/.test(v.done) && hasMessage(`account.done.${v.done}`) ? t(lang, `account.done.${v.done}`) : undefined;
  const nav = html`<nav class="account-nav" aria-label="${t(lang, 'account.nav')}">
  <ul>${SECTIONS.map(([section, href]) => html`<li><a href="${href}" ${section === v.section ? html`aria-current="page"` : ''}>${t(lang, `account.section.${section}`)}</a></li>`)}</ul>
  <form method="post" action="/account/sign-out"><input type="hidden" name="csrf" value="${v.csrf}"><button class="link" type="submit">${t(lang, 'account.sign-out')}</button></form>
</nav>`;
  return page(lang, v.title, html`
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${body}`, { wide: true, nav, langSwitchHref: `${v.self}?lang=${lang === 'ja' ? 'en' : 'ja'}` });
}

export function alert(error: string | undefined, id = 'form-error'): Html | string {
  return error ? html`<p class="alert" role="alert" id="${id}">${error}</p>` : '';
}

export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="csrf" value="${csrf}">`;
}
