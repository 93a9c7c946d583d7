import { bi, html, type Html } from '@sekisho/example-kit/html';
import { RECORD_TYPES } from '../fhir.ts';
import type { ClinicRequest } from './ciba-requests.ts';
import { layout, typeWords, type Chrome } from './layout.ts';

export function loginPage(chrome: Chrome, csrf: string, failed = false): string {
  return layout(chrome, bi('医師ログイン', 'Doctor sign-in'), html`
${failed ? html`<p class="error" role="alert">${bi('ID またはパスワードが違います。', 'The ID or the password is wrong.')}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="${csrf}">
<label for="doctor">${bi('医師 ID', 'Doctor ID')}</label>
<input type="text" id="doctor" name="doctor" autocomplete="username" required maxlength="64" autocapitalize="none" spellcheck="false">
<label for="password">${bi('パスワード', 'Password')}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required maxlength="1024">
<p><button type="submit">ログイン <span lang="en">Sign in</span></button></p>
</form>`);
}

export function homePage(chrome: Chrome, csrf: string, requests: ClinicRequest[], problem?: Html): string {
  return layout(chrome, bi('患者記録の照会', 'Request a patient\'s records'), html`
<p class="notice">${bi(
    '患者さんのスマートフォンに承認依頼が届きます。患者さんが承認したときだけ、健康記録 API から記録を読み込みます。',
    'The patient gets a request on their phone. The records are read from the health-record API only if they approve.',
  )}</p>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<form method="post" action="/requests">
<input type="hidden" name="csrf" value="${csrf}">
<label for="patient-number">${bi('患者番号', 'Patient number')}</label>
<input type="text" id="patient-number" name="patient_number" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}" autocomplete="off" autocapitalize="none" spellcheck="false" aria-describedby="patient-number-help">
<p id="patient-number-help" class="notice">${bi('英数字と . _ - のみ（例: p-0001）', 'Letters, digits and . _ - only (e.g. p-0001)')}</p>
<fieldset>
<legend>${bi('照会する記録', 'Records to read')}</legend>
${RECORD_TYPES.map((t) => html`<label><input type="checkbox" name="types" value="${t}" checked> ${typeWords(t)}</label>`)}
</fieldset>
<p><button type="submit">承認を依頼 <span lang="en">Ask the patient</span></button></p>
</form>
${requests.length ? html`<h2>${bi('最近の照会', 'Recent requests')}</h2>
<ul class="plain">${requests.map((r) => html`<li><a href="/requests/${r.id}">${r.patientNumber} · ${r.bindingMessage}</a> — ${STATUS_WORDS[r.status]}</li>`)}</ul>` : ''}`);
}

export function messagePage(chrome: Chrome, title: Html, message: Html, back = '/'): string {
  return layout(chrome, title, html`<p>${message}</p><p><a href="${back}">${bi('戻る', 'Back')}</a></p>`);
}

export const STATUS_WORDS: Record<ClinicRequest['status'], Html> = {
  waiting: bi('患者さんの承認待ち', 'Waiting for the patient'),
  reading: bi('記録を読み込み中', 'Reading the records'),
  done: bi('記録を取得しました', 'Records received'),
  denied: bi('患者さんが拒否しました', 'The patient declined'),
  expired: bi('時間内に承認されませんでした', 'No answer in time'),
  error: bi('エラー', 'Error'),
};
