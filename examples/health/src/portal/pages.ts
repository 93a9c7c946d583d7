import { html, type Html } from '@sekisho/example-kit/html';
import { pageShell } from '@sekisho/example-kit/page';
import { TYPE_NAMES } from '../clinic/layout.ts';
import type { RecordRow, RecordsView } from '../clinic/record-reader.ts';
import { ALLERGENS, CRITICALITIES } from '../record-codes.ts';
import type { FormError, RecordForm } from './record-forms.ts';
import type { Connection, Notice } from './sessions.ts';
import { WORDS, type Lang, type Words } from './words.ts';

export interface PageContext {
  lang: Lang;
  csrf: string;
  /** Signed in with a consent: the header offers signing out. */
  signedIn: boolean;
}

/** The form a person sent and what was wrong with it, to show it again with their values. */
export interface FormState { form: RecordForm; error: FormError; status?: number; values: URLSearchParams }

const w = (ctx: PageContext): Words => WORDS[ctx.lang];

/** A page of the portal, in the person's language: the service's name, the other language and signing out in the header. */
export function layout(ctx: PageContext, title: string, body: Html): string {
  const words = w(ctx);
  const other: Lang = ctx.lang === 'ja' ? 'en' : 'ja';
  return pageShell({
    lang: ctx.lang, title: `${title} — ${words.service}`, heading: title, body,
    header: html`<span class="brand">${words.service}<small>${words.portal}</small></span>
<nav><a href="/?lang=${other}" lang="${other}" hreflang="${other}">${words.otherLang}</a>
${ctx.signedIn ? html`<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="${ctx.csrf}"><button class="quiet" type="submit">${words.signOut}</button></form>` : ''}</nav>
`,
  });
}

const NOTICE_KEYS: Record<Notice, 'added' | 'disconnected' | 'ended' | 'expiredOnce' | 'signedOut'> = {
  added: 'added', disconnected: 'disconnected', ended: 'ended', expired_once: 'expiredOnce', signed_out: 'signedOut',
};

function banner(ctx: PageContext, notice: Notice | undefined): Html | string {
  if (!notice) return '';
  const text = w(ctx)[NOTICE_KEYS[notice]];
  return html`<p class="banner${notice === 'added' || notice === 'signed_out' ? '' : ' warn'}" role="status">${text}</p>`;
}

/** Signed out: what the portal is, and the way in. */
export function welcomePage(ctx: PageContext, notice?: Notice, problem?: string): string {
  const words = w(ctx);
  return layout(ctx, words.welcomeTitle, html`
${banner(ctx, notice)}
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<p>${words.welcome}</p>
<p class="notice">${words.howSignIn}</p>
<form method="post" action="/login">
<input type="hidden" name="csrf" value="${ctx.csrf}">
<p><button type="submit">${words.signIn}</button></p>
</form>`);
}

export function messagePage(ctx: PageContext, title: string, message: string): string {
  return layout(ctx, title, html`<p class="error" role="alert">${message}</p><p><a href="/">${w(ctx).back}</a></p>`);
}

function section(ctx: PageContext, s: RecordsView['sections'][number]): Html {
  const words = w(ctx);
  const heading = html`<h2>${TYPE_NAMES[s.type][ctx.lang]}</h2>`;
  if (!('rows' in s)) return html`${heading}<p class="error">${s.problem === 'not_granted' ? words.notGranted : s.problem === 'forbidden' ? words.forbidden : words.failed}</p>`;
  if (!s.rows.length) return html`${heading}<p>${words.noRecords}</p>`;
  const row = (r: RecordRow) => html`<tr><td>${r.title}${r.byPatient ? html` <span class="tag">${words.byPatient}</span>` : ''}</td><td>${r.detail}</td><td>${r.date.slice(0, 10)}</td></tr>`;
  return html`${heading}<table><thead><tr><th scope="col">${words.item}</th><th scope="col">${words.details}</th><th scope="col">${words.date}</th></tr></thead>
<tbody>${s.rows.map(row)}</tbody></table>`;
}

/** A form field with its label, and the error when this form's value was refused. */
function field(id: string, label: string, input: Html): Html {
  return html`<label for="${id}">${label}</label>${input}`;
}

function addForms(ctx: PageContext, connection: Connection, state: FormState | undefined, today: string): Html {
  const words = w(ctx);
  const value = (form: RecordForm, name: string) => (state?.form === form ? state.values.get(name) ?? '' : '');
  const error = (form: RecordForm) => (state?.form === form
    ? html`<p class="error" role="alert" id="${form}-error">${state.error === 'refusedByApi' ? words.errors.refusedByApi(state.status ?? 400) : words.errors[state.error]}</p>`
    : '');
  const described = (form: RecordForm) => (state?.form === form ? html` aria-describedby="${form}-error" aria-invalid="true"` : '');
  const hidden = html`<input type="hidden" name="csrf" value="${ctx.csrf}">`;
  const forms: Html[] = [];
  if (connection.canAdd.includes('Observation')) {
    forms.push(html`<form method="post" action="/records/blood-pressure" aria-labelledby="bp-title">${hidden}
<h3 id="bp-title">${words.bpTitle}</h3>${error('blood-pressure')}
${field('bp-systolic', words.systolic, html`<input type="number" id="bp-systolic" name="systolic" inputmode="numeric" min="60" max="260" step="1" required value="${value('blood-pressure', 'systolic')}"${described('blood-pressure')}>`)}
${field('bp-diastolic', words.diastolic, html`<input type="number" id="bp-diastolic" name="diastolic" inputmode="numeric" min="30" max="160" step="1" required value="${value('blood-pressure', 'diastolic')}">`)}
${field('bp-at', words.measuredAt, html`<input type="datetime-local" id="bp-at" name="measured_at" required value="${value('blood-pressure', 'measured_at')}">`)}
<button type="submit">${words.add}</button></form>`);
    forms.push(html`<form method="post" action="/records/body-weight" aria-labelledby="weight-title">${hidden}
<h3 id="weight-title">${words.weightTitle}</h3>${error('body-weight')}
${field('weight-kg', words.weight, html`<input type="number" id="weight-kg" name="weight" inputmode="decimal" min="1" max="300" step="0.1" required value="${value('body-weight', 'weight')}"${described('body-weight')}>`)}
${field('weight-at', words.measuredAt, html`<input type="datetime-local" id="weight-at" name="measured_at" required value="${value('body-weight', 'measured_at')}">`)}
<button type="submit">${words.add}</button></form>`);
  }
  if (connection.canAdd.includes('AllergyIntolerance')) {
    const chosen = value('allergy', 'allergen');
    const serious = value('allergy', 'criticality');
    forms.push(html`<form method="post" action="/records/allergy" aria-labelledby="allergy-title">${hidden}
<h3 id="allergy-title">${words.allergyTitle}</h3>${error('allergy')}
${field('allergy-code', words.allergen, html`<select id="allergy-code" name="allergen" required${described('allergy')}><option value="">${words.choose}</option>
${Object.entries(ALLERGENS).map(([code, names]) => html`<option value="${code}"${chosen === code ? ' selected' : ''}>${names[ctx.lang]}</option>`)}</select>`)}
${field('allergy-criticality', words.criticality, html`<select id="allergy-criticality" name="criticality">${['', ...CRITICALITIES].map((c) => html`<option value="${c}"${serious === c ? ' selected' : ''}>${words.criticalities[c]}</option>`)}</select>`)}
${field('allergy-reaction', words.reaction, html`<input type="text" id="allergy-reaction" name="reaction" maxlength="100" aria-describedby="allergy-reaction-help" value="${value('allergy', 'reaction')}">`)}
<p class="notice" id="allergy-reaction-help">${words.reactionHelp}</p>
${field('allergy-noticed', words.noticedOn, html`<input type="date" id="allergy-noticed" name="noticed_on" max="${today}" value="${value('allergy', 'noticed_on')}">`)}
<button type="submit">${words.add}</button></form>`);
  }
  return forms.length ? html`<div class="forms">${forms}</div>` : html`<p>${words.cannotAdd}</p>`;
}

/** Signed in: the patient, their records, the forms to add to them, and the way to disconnect. */
export function recordsPage(ctx: PageContext, connection: Connection, view: RecordsView, options: { notice?: Notice; form?: FormState; today: string }): string {
  const words = w(ctx);
  const p = view.patient;
  return layout(ctx, words.recordsTitle, html`
${banner(ctx, options.notice)}
<h2>${words.patient}</h2>
<dl class="facts">
<dt>${words.name}</dt><dd>${p.name}${p.latinName ? html` / <span lang="en">${p.latinName}</span>` : ''}</dd>
${p.birthDate ? html`<dt>${words.birthDate}</dt><dd>${p.birthDate}</dd>` : ''}
${p.gender ? html`<dt>${words.gender}</dt><dd>${words.genders[p.gender] ?? p.gender}</dd>` : ''}
</dl>
${view.sections.map((s) => section(ctx, s))}
<h2>${words.addTitle}</h2>
${addForms(ctx, connection, options.form, options.today)}
<h2>${words.connectionTitle}</h2>
<p>${words.connectedAs(connection.patient.label)}</p>
<p class="notice">${words.disconnectHelp}</p>
<form method="post" action="/disconnect"><input type="hidden" name="csrf" value="${ctx.csrf}"><button class="danger" type="submit">${words.disconnect}</button></form>`);
}
