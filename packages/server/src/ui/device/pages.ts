import { t, type Lang } from '../i18n.ts';
import { html, page, Html } from '../html.ts';
import { formatDate, formatDateTime } from '../dates.ts';
import type { AuthenticationDevice } from '../../ciba/devices.ts';
import type { CibaRequest } from '../../ciba/requests.ts';

/** The device app's head: its manifest (installable PWA) and its one script (no inline script). */
const APP_HEAD = html`<link rel="manifest" href="/device/manifest.webmanifest">
<meta name="theme-color" content="#1d3557">
<script src="/assets/device.js" defer></script>`;

export function appPage(lang: Lang, title: string, body: Html, langSwitchHref?: string): string {
  return page(lang, title, body, { head: APP_HEAD, ...(langSwitchHref ? { langSwitchHref } : {}) });
}

/** Not linked yet: sign in with a passkey to link this phone (webauthn.js runs the ceremony). */
export function bindPage(lang: Lang, v: { csrf: string; options: unknown; problem?: string | undefined }): string {
  return page(lang, t(lang, 'device.bind.title'), html`
<p>${t(lang, 'device.bind.lead')}</p>
${v.problem ? html`<p class="alert" role="alert">${t(lang, v.problem)}</p>` : ''}
<form method="post" action="/device/bind" id="webauthn-form" data-mode="get">
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="credential" value="">
<label for="device-name">${t(lang, 'device.bind.name')}</label>
<input type="text" id="device-name" name="name" maxlength="100" autocomplete="off" value="${lang === 'ja' ? 'スマートフォン' : 'Phone'}">
<p id="webauthn-status" class="alert" role="alert" hidden data-failed="${t(lang, 'device.bind.failed')}"></p>
<button class="primary" type="button" id="webauthn-start" hidden>${t(lang, 'device.bind.start')}</button>
<noscript><p class="muted">${t(lang, 'device.bind.needs')}</p></noscript>
</form>
<p class="muted">${t(lang, 'device.bind.nopasskey')} <a href="/signup">${t(lang, 'device.bind.signup')}</a> · <a href="/account">${t(lang, 'device.bind.account')}</a></p>
<script type="application/json" id="webauthn-options">${jsonIn(v.options)}</script>
<script src="/assets/webauthn.js" defer></script>`, { head: html`<link rel="manifest" href="/device/manifest.webmanifest">` });
}

/** JSON inside a <script type="application/json"> (not executed): `<` escaped so nothing can close the element. */
function jsonIn(v: unknown): Html {
  return new Html(JSON.stringify(v).replace(/</g, '\\u003c'));
}

export interface ListedRequest { request: CibaRequest; clientName: string; principalName?: string | undefined }

/** The requests waiting for this account, newest first; the script reloads it when one arrives or is settled. */
export function listPage(lang: Lang, v: { device: AuthenticationDevice; items: ListedRequest[]; csrf: string; pushAvailable: boolean; now?: Date }): string {
  const now = (v.now ?? new Date()).getTime();
  return appPage(lang, t(lang, 'device.title'), html`
<div id="device-live" data-page="list" data-csrf="${v.csrf}"></div>
<p>${t(lang, 'device.list.lead')}</p>
${v.items.length === 0 ? html`<p class="muted" id="device-empty">${t(lang, 'device.list.empty')}</p>` : html`<ul class="items" id="device-requests">${v.items.map((i) => html`<li>
<strong>${i.clientName}</strong>${i.principalName ? html` <span class="badge">${t(lang, 'device.list.for', { name: i.principalName })}</span>` : ''}<br>
${i.request.bindingMessage ? html`<code class="binding">${i.request.bindingMessage}</code> ` : ''}<span class="muted">${t(lang, 'device.list.left', { minutes: String(Math.max(0, Math.ceil((i.request.expiresAt.getTime() - now) / 60_000))) })}</span><br>
<a href="/device/requests/${i.request.id}">${t(lang, 'device.list.open')}</a></li>`)}</ul>`}
${v.pushAvailable ? html`<p><button type="button" id="device-push" hidden data-done="${t(lang, 'device.push.done')}" data-failed="${t(lang, 'device.push.failed')}">${t(lang, 'device.push.on')}</button></p><p id="device-push-status" class="muted" role="status"></p>` : ''}
<p><a href="/device/devices">${t(lang, 'device.devices')}</a></p>`);
}

/** What is shown above the consent screen on the device: the code to compare, on whose behalf, the time left. */
export function requestPreface(lang: Lang, v: { request: CibaRequest; principalName?: string | undefined; relationship?: string | undefined; beyond: string[] }): Html {
  const left = Math.max(0, Math.floor((v.request.expiresAt.getTime() - Date.now()) / 1000));
  const relationship = v.relationship ? t(lang, `relationship.${v.relationship}`) : '';
  return html`<div id="device-live" data-page="request" data-request="${v.request.id}"></div>
<section class="binding-box" aria-labelledby="binding-h">
${v.request.bindingMessage
    ? html`<p id="binding-h">${t(lang, 'device.binding')}</p><p class="binding-code"><code id="binding-message">${v.request.bindingMessage}</code></p>`
    : html`<p id="binding-h">${t(lang, 'device.binding.none')}</p>`}
<p class="muted"><span id="time-left" data-expires="${v.request.expiresAt.toISOString()}" data-lang="${lang}">${t(lang, 'device.left', { time: `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` })}</span> (${t(lang, 'device.left.until', { time: formatDateTime(lang, v.request.expiresAt) })})</p>
</section>
${v.principalName ? html`<p class="alert acting" role="note">${t(lang, 'device.acting', { name: v.principalName, relationship })}</p>` : ''}
${v.beyond.length ? html`<p class="alert" role="note">${t(lang, 'device.beyond', { relationship, items: v.beyond.join('、') })}</p>` : ''}
<p class="muted">${t(lang, 'device.passkey.note')}</p>`;
}

/** After a decision, or a request that cannot be decided (decided elsewhere, expired, not this account's). */
export function outcomePage(lang: Lang, key: string, vars: Record<string, string> = {}): string {
  // The box's colour says how it ended before the words are read: allowed, denied, or neither.
  const kind = key === 'device.approved' ? 'approved' : key === 'device.denied' ? 'denied' : 'other';
  return appPage(lang, t(lang, 'device.title'), html`<div id="device-live" data-page="outcome"></div>
<p class="outcome ${kind}" role="status">${t(lang, key, vars)}</p><p><a href="/device">${t(lang, 'device.back')}</a></p>`);
}

export function devicesPage(lang: Lang, v: { current: AuthenticationDevice; devices: AuthenticationDevice[]; csrf: string; done?: boolean }): string {
  return appPage(lang, t(lang, 'device.devices'), html`
<p>${t(lang, 'device.devices.lead')}</p>
${v.done ? html`<p class="notice" role="status">${t(lang, 'device.devices.done')}</p>` : ''}
<ul class="items">${v.devices.map((d) => html`<li>
<strong>${d.name}</strong>${d.id === v.current.id ? html` <span class="badge">${t(lang, 'device.devices.this')}</span>` : ''}${d.push && !d.removedAt ? html` <span class="badge">${t(lang, 'device.devices.push')}</span>` : ''}<br>
<span class="muted">${t(lang, 'device.devices.linked', { date: formatDate(lang, d.createdAt) })}${d.lastSeenAt && !d.removedAt ? html` · ${t(lang, 'device.devices.seen', { date: formatDateTime(lang, d.lastSeenAt) })}` : ''}${d.removedAt ? html` · ${t(lang, 'device.devices.removed', { date: formatDateTime(lang, d.removedAt) })}` : ''}</span>
${d.removedAt ? '' : html`<form method="post" action="/device/devices/${d.id}/remove"><input type="hidden" name="csrf" value="${v.csrf}"><button class="secondary small" type="submit">${t(lang, 'device.devices.remove')} <span class="visually-hidden">${d.name}</span></button></form>`}
</li>`)}</ul>
<p><a href="/device">${t(lang, 'device.back')}</a></p>`);
}

export function offlinePage(lang: Lang): string {
  return appPage(lang, t(lang, 'device.title'), html`<p role="status">${t(lang, 'device.offline')}</p><p><a href="/device">${t(lang, 'device.back')}</a></p>`);
}

export function manifest(lang: Lang): string {
  return JSON.stringify({
    name: t(lang, 'device.app'), short_name: t(lang, 'device.title'), lang,
    start_url: '/device', scope: '/device', display: 'standalone', background_color: '#ffffff', theme_color: '#1d3557',
    icons: [{ src: '/assets/device-icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
  });
}
