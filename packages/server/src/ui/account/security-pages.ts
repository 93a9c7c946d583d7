import type { Passkey } from '../../identity/passkeys.ts';
import { Html, html } from '../html.ts';
import { t, type Lang } from '../i18n.ts';
import { passkeyCeremony } from '../sign-in-page.ts';
import { accountPage, alert, csrfField, when } from './shell.ts';

interface Frame { csrf: string; done?: string | undefined }

export interface SecurityView extends Frame {
  passkeys: Passkey[];
  /** Passwords are allowed in this deployment. */
  passwords: boolean;
  hasPassword: boolean;
  totp: boolean;
  recoveryCodesLeft: number;
  error?: string;
}

function passkeyRow(lang: Lang, v: SecurityView, p: Passkey, i: number): Html {
  const kind = p.deviceType === 'multiDevice' || p.backedUp ? 'account.passkey.synced' : 'account.passkey.device-bound';
  return html`<li class="passkey">
  <form method="post" action="/account/passkeys/rename" class="inline">
    ${csrfField(v.csrf)}<input type="hidden" name="id" value="${p.id}">
    <label for="passkey-name-${i}" class="visually-hidden">${t(lang, 'account.passkey.name')}</label>
    <input id="passkey-name-${i}" name="name" type="text" maxlength="60" required value="${p.name}">
    <button class="secondary small" type="submit">${t(lang, 'account.passkey.rename')}</button>
  </form>
  ${p.suspendedAt ? html`<p class="alert">${t(lang, 'account.passkey.suspended')}</p>` : ''}
  <p class="muted">${t(lang, kind)} · ${t(lang, 'account.passkey.added')} ${when(lang, p.createdAt)} · ${t(lang, 'account.passkey.last-used')} ${when(lang, p.lastUsedAt)}</p>
  <form method="post" action="/account/passkeys/remove" class="inline">
    ${csrfField(v.csrf)}<input type="hidden" name="id" value="${p.id}">
    <button class="link danger" type="submit" aria-label="${t(lang, 'account.passkey.remove-named', { name: p.name })}">${t(lang, 'account.passkey.remove')}</button>
  </form>
</li>`;
}

export function securityPage(lang: Lang, v: SecurityView): string {
  return accountPage(lang, { section: 'security', csrf: v.csrf, self: '/account/security', done: v.done, title: t(lang, 'account.section.security') }, html`
${alert(v.error)}
<section aria-labelledby="passkeys-h">
<h2 id="passkeys-h">${t(lang, 'account.passkeys')}</h2>
<p class="muted">${t(lang, 'account.passkeys.lead')}</p>
${v.passkeys.length ? html`<ul class="passkeys">${v.passkeys.map((p, i) => passkeyRow(lang, v, p, i))}</ul>` : html`<p>${t(lang, 'account.passkeys.none')}</p>`}
<p><a class="button" href="/account/passkeys/new">${t(lang, 'account.passkey.add')}</a></p>
</section>
${v.passwords ? html`
<section aria-labelledby="password-h">
<h2 id="password-h">${t(lang, 'login.password')}</h2>
<p>${t(lang, v.hasPassword ? 'account.password.set' : 'account.password.unset')}</p>
<p><a href="/account/password">${t(lang, v.hasPassword ? 'account.password.change' : 'account.password.create')}</a></p>
${v.hasPassword && v.passkeys.length ? html`
<form method="post" action="/account/password/remove" class="inline">${csrfField(v.csrf)}<button class="link" type="submit">${t(lang, 'account.password.remove')}</button></form>` : ''}
</section>
${v.hasPassword ? html`
<section aria-labelledby="totp-h">
<h2 id="totp-h">${t(lang, 'account.totp')}</h2>
<p>${t(lang, v.totp ? 'account.totp.on' : 'account.totp.off')}</p>
${v.totp ? html`
<p class="muted">${t(lang, 'account.codes.left', { n: String(v.recoveryCodesLeft) })}</p>
<form method="post" action="/account/recovery-codes" class="inline">${csrfField(v.csrf)}<button class="secondary small" type="submit">${t(lang, 'account.codes.new')}</button></form>
<form method="post" action="/account/totp/remove" class="inline">${csrfField(v.csrf)}<button class="link danger" type="submit">${t(lang, 'account.totp.remove')}</button></form>`
  : html`<p><a href="/account/totp">${t(lang, 'account.totp.enable')}</a></p>`}
</section>` : ''}` : ''}`);
}

export function addPasskeyPage(lang: Lang, v: Frame & { options: unknown; error?: string }): string {
  return accountPage(lang, { section: undefined, csrf: v.csrf, self: '/account/passkeys/new', title: t(lang, 'account.passkey.add') }, html`
<p>${t(lang, 'account.passkey.add-lead')}</p>
${alert(v.error)}
${passkeyCeremony(lang, { options: v.options, action: '/account/passkeys/new', csrf: v.csrf, mode: 'create', label: t(lang, 'signup.passkey.create') })}
<p class="muted">${t(lang, 'signup.passkey.help')}</p>
<p class="links"><a href="/account/security">${t(lang, 'account.back')}</a></p>`);
}

export function passwordPage(lang: Lang, v: Frame & { username: string; hasPassword: boolean; error?: string }): string {
  return accountPage(lang, { section: undefined, csrf: v.csrf, self: '/account/password', title: t(lang, v.hasPassword ? 'account.password.change' : 'account.password.create') }, html`
<p class="muted">${t(lang, 'account.password.rules')}</p>
${alert(v.error)}
<form method="post" action="/account/password" novalidate>
  ${csrfField(v.csrf)}
  <input type="hidden" name="username" value="${v.username}" autocomplete="username">
  <label for="password">${t(lang, 'account.password.new')}</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="256" ${v.error ? html`aria-describedby="form-error"` : ''}>
  <label for="password2">${t(lang, 'account.password.repeat')}</label>
  <input id="password2" name="password2" type="password" autocomplete="new-password" required minlength="8" maxlength="256">
  <div class="actions"><button class="primary" type="submit">${t(lang, 'account.save')}</button></div>
</form>
<p class="links"><a href="/account/security">${t(lang, 'account.back')}</a></p>`);
}

export function totpPage(lang: Lang, v: Frame & { qrSvg: string; secret: string; error?: string }): string {
  // The secret is shown in groups of four so it can be typed into an app that cannot scan.
  const grouped = v.secret.replace(/(.{4})(?=.)/g, '$1 ');
  return accountPage(lang, { section: undefined, csrf: v.csrf, self: '/account/totp', title: t(lang, 'account.totp.enable') }, html`
<ol class="steps">
  <li>${t(lang, 'account.totp.step1')}</li>
  <li>${t(lang, 'account.totp.step2')}
    <figure class="qr" role="img" aria-label="${t(lang, 'account.totp.qr')}">${new Html(v.qrSvg)}</figure>
    <p class="muted">${t(lang, 'account.totp.manual')} <code id="totp-secret">${grouped}</code></p></li>
  <li>${t(lang, 'account.totp.step3')}</li>
</ol>
${alert(v.error)}
<form method="post" action="/account/totp" novalidate>
  ${csrfField(v.csrf)}
  <label for="code">${t(lang, 'mfa.code')}</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="10" ${v.error ? html`aria-describedby="form-error"` : ''}>
  <div class="actions"><button class="primary" type="submit">${t(lang, 'account.totp.confirm')}</button></div>
</form>
<p class="links"><a href="/account/security">${t(lang, 'account.back')}</a></p>`);
}

export function recoveryCodesPage(lang: Lang, v: Frame & { codes: string[] }): string {
  return accountPage(lang, { section: undefined, csrf: v.csrf, self: '/account/security', title: t(lang, 'account.codes.title') }, html`
<p>${t(lang, 'account.codes.lead')}</p>
<ul class="codes" id="recovery-codes">${v.codes.map((c) => html`<li><code>${c}</code></li>`)}</ul>
<p class="notice">${t(lang, 'account.codes.once')}</p>
<p><a class="button" href="/account/security">${t(lang, 'account.codes.saved')}</a></p>`);
}
