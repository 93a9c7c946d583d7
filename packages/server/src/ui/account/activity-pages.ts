import type { LoginRecord } from '../../identity/login-history.ts';
import type { ActiveSession } from '../../identity/sessions.ts';
import { html } from '../html.ts';
import { t, type Lang } from '../i18n.ts';
import { accountPage, alert, csrfField, device, methodName, when } from './shell.ts';

export interface ActivityView {
  csrf: string;
  done?: string | undefined;
  currentUid: string;
  sessions: ActiveSession[];
  history: LoginRecord[];
  error?: string;
}

export function activityPage(lang: Lang, v: ActivityView): string {
  return accountPage(lang, { section: 'activity', csrf: v.csrf, self: '/account/activity', done: v.done, title: t(lang, 'account.section.activity') }, html`
${alert(v.error)}
<section aria-labelledby="sessions-h">
<h2 id="sessions-h">${t(lang, 'account.sessions')}</h2>
<p class="muted">${t(lang, 'account.sessions.lead')}</p>
<table class="list" id="sessions">
<thead><tr><th scope="col">${t(lang, 'account.device')}</th><th scope="col">${t(lang, 'account.signed-in')}</th><th scope="col">${t(lang, 'account.method')}</th><th scope="col"><span class="visually-hidden">${t(lang, 'account.actions')}</span></th></tr></thead>
<tbody>${v.sessions.map((s) => html`<tr>
  <td>${device(s.userAgent)}${s.uid === v.currentUid ? html` <span class="badge">${t(lang, 'account.this-device')}</span>` : ''}<br><span class="muted">${s.ip ?? ''}</span></td>
  <td>${when(lang, s.signedInAt)}</td>
  <td>${methodName(lang, s.method)}</td>
  <td><form method="post" action="/account/sessions/end">${csrfField(v.csrf)}<input type="hidden" name="id" value="${s.uid}"><button class="link" type="submit">${t(lang, s.uid === v.currentUid ? 'account.sign-out' : 'account.sessions.end')}</button></form></td>
</tr>`)}</tbody>
</table>
<form method="post" action="/account/sessions/end-all" class="actions narrow">${csrfField(v.csrf)}<button class="secondary" type="submit">${t(lang, 'account.sessions.end-all')}</button></form>
</section>
<section aria-labelledby="history-h">
<h2 id="history-h">${t(lang, 'account.history')}</h2>
<p class="muted">${t(lang, 'account.history.lead')}</p>
<table class="list" id="history">
<thead><tr><th scope="col">${t(lang, 'account.when')}</th><th scope="col">${t(lang, 'account.device')}</th><th scope="col">${t(lang, 'account.method')}</th><th scope="col">${t(lang, 'account.result')}</th></tr></thead>
<tbody>${v.history.map((h) => html`<tr${h.result === 'success' ? '' : html` class="failed"`}>
  <td>${when(lang, h.occurredAt)}</td>
  <td>${device(h.userAgent)}<br><span class="muted">${h.ip ?? ''}</span></td>
  <td>${methodName(lang, h.method)}</td>
  <td>${t(lang, `account.result.${h.result}`)}</td>
</tr>`)}</tbody>
</table>
</section>`);
}
