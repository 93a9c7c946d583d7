import type { AuthenticationDevice } from '../../ciba/devices.ts';
import { formatDateTime } from '../dates.ts';
import { html, type Html } from '../html.ts';
import { t, type Lang } from '../i18n.ts';
import { accountPage, alert, csrfField, when } from './shell.ts';

export interface DevicesView {
  csrf: string;
  done?: string | undefined;
  devices: AuthenticationDevice[];
  /** The person has a request code (CIBA user_code); the code itself is never shown. */
  requestCode: boolean;
  /** A problem with the devices list (removal). */
  error?: string;
  /** A problem with the request code form, shown beside it. */
  codeError?: string;
}

function deviceRow(lang: Lang, v: DevicesView, d: AuthenticationDevice): Html {
  if (d.removedAt) {
    return html`<tr class="muted" id="${d.id}">
  <td>${d.name} <span class="badge ended">${t(lang, 'approval-devices.removed', { date: formatDateTime(lang, d.removedAt) })}</span></td>
  <td>${when(lang, d.createdAt)}</td><td>${when(lang, d.lastSeenAt)}</td><td>—</td><td></td>
</tr>`;
  }
  return html`<tr id="${d.id}">
  <td>${d.name}</td>
  <td>${when(lang, d.createdAt)}</td><td>${when(lang, d.lastSeenAt)}</td>
  <td>${t(lang, d.push ? 'approval-devices.push.on' : 'approval-devices.push.off')}</td>
  <td><form method="post" action="/account/devices/remove">${csrfField(v.csrf)}<input type="hidden" name="id" value="${d.id}">
    <button class="link danger" type="submit" aria-label="${t(lang, 'approval-devices.remove-named', { name: d.name })}">${t(lang, 'approval-devices.remove')}</button></form></td>
</tr>`;
}

function requestCodeSection(lang: Lang, v: DevicesView): Html {
  // The code is never put back into the form, not even after a refusal; autocomplete is off so a
  // password manager does not save it as (and in place of) the account's password.
  return html`<section aria-labelledby="request-code-h">
<h2 id="request-code-h">${t(lang, 'request-code')}</h2>
<p class="muted">${t(lang, 'request-code.lead')}</p>
<p id="request-code-state">${t(lang, v.requestCode ? 'request-code.on' : 'request-code.off')}</p>
${alert(v.codeError, 'code-error')}
<form method="post" action="/account/request-code" novalidate>
  ${csrfField(v.csrf)}
  <p class="muted" id="request-code-rules">${t(lang, 'request-code.rules')}</p>
  <label for="request-code">${t(lang, 'request-code.new')}</label>
  <input id="request-code" name="code" type="password" autocomplete="off" required minlength="8" maxlength="64" aria-describedby="request-code-rules${v.codeError ? ' code-error' : ''}">
  <label for="request-code-confirm">${t(lang, 'request-code.repeat')}</label>
  <input id="request-code-confirm" name="confirm" type="password" autocomplete="off" required minlength="8" maxlength="64">
  <div class="actions narrow"><button class="secondary" type="submit">${t(lang, v.requestCode ? 'request-code.change' : 'request-code.set')}</button></div>
</form>
${v.requestCode ? html`<form method="post" action="/account/request-code/remove" class="inline">${csrfField(v.csrf)}<button class="link danger" type="submit">${t(lang, 'request-code.remove')}</button></form>` : ''}
</section>`;
}

/**
 * The phones that approve services' requests (CIBA authentication devices), removed ones greyed
 * with the date, each active one with its Remove button, so that a person who lost their only
 * phone can cut it off from a computer; then the request code that stops strangers making the
 * phone ring.
 */
export function devicesPage(lang: Lang, v: DevicesView): string {
  return accountPage(lang, { section: 'devices', csrf: v.csrf, self: '/account/devices', done: v.done, title: t(lang, 'account.section.devices') }, html`
${alert(v.error)}
<section aria-labelledby="devices-h">
<h2 id="devices-h">${t(lang, 'approval-devices.linked')}</h2>
<p class="muted">${t(lang, 'approval-devices.lead')}</p>
<p>${t(lang, 'approval-devices.link')} <a href="/device">${t(lang, 'approval-devices.app')}</a></p>
${v.devices.length ? html`<table class="list" id="approval-devices">
<thead><tr><th scope="col">${t(lang, 'approval-devices.col.device')}</th><th scope="col">${t(lang, 'approval-devices.col.linked')}</th><th scope="col">${t(lang, 'approval-devices.col.seen')}</th><th scope="col">${t(lang, 'approval-devices.col.push')}</th><th scope="col"><span class="visually-hidden">${t(lang, 'account.actions')}</span></th></tr></thead>
<tbody>${v.devices.map((d) => deviceRow(lang, v, d))}</tbody>
</table>
<p class="muted">${t(lang, 'approval-devices.remove.help')}</p>` : html`<p id="approval-devices-none">${t(lang, 'approval-devices.none')}</p>`}
</section>
${requestCodeSection(lang, v)}`);
}
