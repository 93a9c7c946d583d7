import { Html, html, page } from './html.ts';
import { t, type Lang } from './i18n.ts';

/**
 * The passkey part of a page: the server's options as inert JSON, a button (shown by the script;
 * hidden without JavaScript), a status line for failures and the form the result is posted with.
 */
export function passkeyCeremony(lang: Lang, v: { options: unknown; action: string; csrf: string; mode: 'get' | 'create'; autofill?: boolean; label: string; extra?: Html }): Html {
  // JSON inside <script type="application/json"> is not executed; `<` is escaped so it cannot close the tag.
  const json = JSON.stringify(v.options).replace(/</g, '\\u003c');
  return html`
<script type="application/json" id="webauthn-options">${new Html(json)}</script>
<form id="webauthn-form" method="post" action="${v.action}" data-mode="${v.mode}" ${v.autofill ? html`data-autofill` : ''}>
  <input type="hidden" name="csrf" value="${v.csrf}">
  <input type="hidden" name="credential" value="">
  ${v.extra ?? ''}
</form>
<button class="primary" type="button" id="webauthn-start" hidden>${v.label}</button>
<p class="alert" role="alert" id="webauthn-status" hidden data-failed="${t(lang, 'passkey.failed')}"></p>
<noscript><p class="muted">${t(lang, 'passkey.noscript')}</p></noscript>
<script src="/assets/webauthn.js" defer></script>`;
}

/** Where a sign-in page posts to and links to: an authorization request's or the account page's. */
export interface SignInPlace {
  /** Path prefix the forms post to: `{base}/login`, `{base}/passkey`, `{base}/otp`. */
  base: string;
  /** The page's own address, for the language switch. */
  self: string;
  /** Shown under the title: who asks the person to sign in. */
  lead: string;
  /** Cancel (back to the client with access_denied); absent on the account page. */
  abortAction?: string;
  signupHref?: string;
  recoverHref?: string;
  /** What just happened (e.g. "You are signed out"), shown above the form. */
  notice?: string;
}

export interface SignInView extends SignInPlace {
  csrf: string;
  passkeyOptions: unknown;
  passwords: boolean;
  username?: string;
  error?: string;
}

const switchHref = (self: string, lang: Lang) => `${self}${self.includes('?') ? '&' : '?'}lang=${lang === 'ja' ? 'en' : 'ja'}`;

function cancelForm(lang: Lang, v: { abortAction?: string; csrf: string }): Html | string {
  return v.abortAction ? html`
<form method="post" action="${v.abortAction}" class="actions">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <button class="link" type="submit">${t(lang, 'login.cancel')}</button>
</form>` : '';
}

/** Sign-in: a passkey first (button and autofill), the password form as the fallback. */
export function signInPage(lang: Lang, v: SignInView): string {
  return page(lang, t(lang, 'login.title'), html`
<p>${v.lead}</p>
${v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : ''}
${v.error ? html`<p class="alert" role="alert" id="login-error">${v.error}</p>` : ''}
${passkeyCeremony(lang, { options: v.passkeyOptions, action: `${v.base}/passkey`, csrf: v.csrf, mode: 'get', autofill: true, label: t(lang, 'passkey.signin') })}
${v.passwords ? html`
<form method="post" action="${v.base}/login" novalidate class="password-form">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="username">${t(lang, 'login.username')}</label>
  <input id="username" name="username" type="text" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" required maxlength="254" value="${v.username ?? ''}" ${v.error ? html`aria-describedby="login-error"` : ''}>
  <label for="password">${t(lang, 'login.password')}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256">
  <div class="actions"><button class="secondary" type="submit">${t(lang, 'login.submit')}</button></div>
</form>` : html`
<label for="username">${t(lang, 'login.username')}</label>
<input id="username" name="username" type="text" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" maxlength="254">`}
${v.signupHref || v.recoverHref ? html`<p class="links">
  ${v.signupHref ? html`<a href="${v.signupHref}">${t(lang, 'signup.link')}</a>` : ''}
  ${v.signupHref && v.recoverHref ? html`<span aria-hidden="true"> · </span>` : ''}
  ${v.recoverHref ? html`<a href="${v.recoverHref}">${t(lang, 'recover.link')}</a>` : ''}
</p>` : ''}
${cancelForm(lang, v)}`, { langSwitchHref: switchHref(v.self, lang) });
}

export interface StepUpView extends SignInPlace {
  csrf: string;
  clientName?: string;
  username: string;
  /** Passkey options restricted to this person's passkeys; absent when they have none. */
  passkeyOptions?: unknown;
  /** Offer a TOTP / recovery code (after a password, when that is enough). */
  oneTimeCode: boolean;
  /** Offer the password (re-authentication on the account page, when the account has one). */
  password?: boolean;
  /** Why more is asked: after the password (second factor), for a stronger level (step-up), or to confirm it is still the person (account page). */
  reason: 'second-factor' | 'step-up' | 'reauth';
  error?: string;
}

const STEP_TEXT = {
  'second-factor': { title: 'mfa.title', lead: 'mfa.lead' },
  'step-up': { title: 'stepup.title', lead: 'stepup.lead' },
  reauth: { title: 'reauth.title', lead: 'reauth.lead' },
} as const;

/** The second step: a one-time code after a password, or a passkey when more assurance is asked. */
export function stepUpPage(lang: Lang, v: StepUpView): string {
  // After a password, an account without an authenticator app confirms with its passkey: no code to enter.
  const text = v.reason === 'second-factor' && !v.oneTimeCode ? { title: 'stepup.title', lead: 'passkey.second-factor.lead' } : STEP_TEXT[v.reason];
  return page(lang, t(lang, text.title), html`
<p>${t(lang, text.lead, { client: v.clientName ?? '' })}</p>
<p class="muted">${t(lang, 'consent.account', { username: v.username })}</p>
${v.error ? html`<p class="alert" role="alert" id="code-error">${v.error}</p>` : ''}
${v.passkeyOptions ? passkeyCeremony(lang, { options: v.passkeyOptions, action: `${v.base}/passkey`, csrf: v.csrf, mode: 'get', label: t(lang, 'passkey.confirm') }) : ''}
${v.password ? html`
<form method="post" action="${v.base}/login" novalidate class="password-form">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <input type="hidden" name="username" value="${v.username}" autocomplete="username">
  <label for="password">${t(lang, 'login.password')}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256" ${v.error ? html`aria-describedby="code-error"` : ''}>
  <div class="actions"><button class="${v.passkeyOptions ? 'secondary' : 'primary'}" type="submit">${t(lang, 'reauth.password')}</button></div>
</form>` : ''}
${v.oneTimeCode ? html`
<form method="post" action="${v.base}/otp" novalidate>
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="code">${t(lang, 'mfa.code')}</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="20" ${v.error ? html`aria-describedby="code-error"` : ''}>
  <p class="muted">${t(lang, 'mfa.recovery-hint')}</p>
  <div class="actions"><button class="${v.passkeyOptions ? 'secondary' : 'primary'}" type="submit">${t(lang, 'mfa.submit')}</button></div>
</form>` : ''}
${v.recoverHref ? html`<p class="links"><a href="${v.recoverHref}">${t(lang, 'recover.link')}</a></p>` : ''}
${cancelForm(lang, v)}`, { langSwitchHref: switchHref(v.self, lang) });
}
