import { bi, html, type Html } from '@sekisho/example-kit/html';
import type { ClinicRequest } from './ciba-requests.ts';
import { layout, TYPE_NAMES, typeWords, type Chrome } from './layout.ts';
import { STATUS_WORDS } from './pages.ts';
import type { RecordsView } from './record-reader.ts';

/** Errors in words; anything else is shown as "refused" with its code. */
const ERROR_WORDS: Record<string, Html> = {
  unknown_user_id: bi('この患者番号は Sekisho に登録されていません。', 'Sekisho does not know this patient number.'),
  unreachable: bi('Sekisho に接続できませんでした。', 'Sekisho could not be reached.'),
  invalid_response: bi('Sekisho から想定外の応答がありました。', 'Sekisho answered in an unexpected way.'),
  no_patient_granted: bi('承認に対象の患者が含まれていませんでした。', 'The approval named no patient.'),
  patient_not_found: bi('健康記録 API にこの患者の記録がありません。', 'The health-record API holds no record of this patient.'),
  forbidden: bi('健康記録 API がアクセスを拒否しました。', 'The health-record API refused access.'),
  unavailable: bi('健康記録 API に接続できませんでした。', 'The health-record API could not be reached.'),
  token_not_dpop_bound: bi('発行されたトークンが DPoP で保護されていませんでした。', 'The token issued was not bound to our DPoP key.'),
};

const GENDER: Record<string, string> = { male: '男性 / male', female: '女性 / female', other: 'その他 / other', unknown: '不明 / unknown' };

function timeLeft(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The page of one request: waiting (it reloads itself every 2 s), the records, or why there are none. */
export function requestPage(chrome: Chrome, request: ClinicRequest, now = Date.now()): string {
  const running = request.status === 'waiting' || request.status === 'reading';
  const page = { ...chrome, ...(running ? { refreshSeconds: 2 } : {}) };
  return layout(page, STATUS_WORDS[request.status], html`
<dl class="facts">
<dt>${bi('患者番号', 'Patient number')}</dt><dd>${request.patientNumber}</dd>
<dt>${bi('照会する記録', 'Records asked for')}</dt><dd>${request.resourceTypes.map((t) => TYPE_NAMES[t].ja).join('、')}</dd>
<dt>${bi('確認コード', 'Binding message')}</dt><dd>${request.bindingMessage}</dd>
</dl>
${body(request, now)}
<p><a href="/">${bi('照会画面へ戻る', 'Back to requests')}</a></p>`);
}

function body(request: ClinicRequest, now: number): Html {
  switch (request.status) {
    case 'waiting':
      return html`<div role="status">
<p>${bi('患者さんにこのコードを読み上げ、スマートフォンに同じコードが表示されていることを確認してもらってください。',
    'Read this code to the patient: their phone must show the same one.')}</p>
<p><span class="visually-hidden">確認コード Binding message: </span><strong class="binding">${request.bindingMessage}</strong></p>
<p>${bi(`残り時間 ${timeLeft(request.expiresAt - now)}`, `Time left ${timeLeft(request.expiresAt - now)}`)}</p>
</div>`;
    case 'reading':
      return html`<p role="status">${bi('承認されました。記録を読み込んでいます…', 'Approved. Reading the records…')}</p>`;
    case 'denied':
      return html`<p class="error" role="alert">${bi('患者さんが記録の提供を拒否しました。記録は読み込んでいません。', 'The patient declined. No record was read.')}</p>`;
    case 'expired':
      return html`<p class="error" role="alert">${bi('時間内に承認されませんでした。必要ならもう一度依頼してください。', 'No answer in time. Ask again if needed.')}</p>`;
    case 'error':
      return html`<p class="error" role="alert">${ERROR_WORDS[request.error ?? ''] ?? bi(`要求が受け付けられませんでした（${request.error ?? 'error'}）。`, `The request was refused (${request.error ?? 'error'}).`)}</p>`;
    case 'done':
      return records(request, request.records!);
  }
}

function records(request: ClinicRequest, view: RecordsView): Html {
  const p = view.patient;
  return html`
<p class="ok">${request.approvedBy === 'delegate'
    ? bi('保護者・代理人が患者さんに代わって承認しました。', 'Approved by a guardian for the patient.')
    : bi('患者さん本人が承認しました。', 'Approved by the patient.')}</p>
<h2>${bi('患者', 'Patient')}</h2>
<dl class="facts">
<dt>${bi('氏名', 'Name')}</dt><dd>${p.name}${p.latinName ? html` / <span lang="en">${p.latinName}</span>` : ''}</dd>
${p.birthDate ? html`<dt>${bi('生年月日', 'Date of birth')}</dt><dd>${p.birthDate}</dd>` : ''}
${p.gender ? html`<dt>${bi('性別', 'Gender')}</dt><dd>${GENDER[p.gender] ?? p.gender}</dd>` : ''}
</dl>
${view.sections.map((s) => html`<h2>${typeWords(s.type)}</h2>
${'rows' in s
    ? s.rows.length
      ? html`<table><thead><tr><th scope="col">${bi('項目', 'Item')}</th><th scope="col">${bi('内容', 'Details')}</th><th scope="col">${bi('日付', 'Date')}</th></tr></thead>
<tbody>${s.rows.map((r) => html`<tr><td>${r.title}${r.byPatient ? html` <span class="tag">${bi('本人記録', 'Added by the patient')}</span>` : ''}</td><td>${r.detail}</td><td>${r.date.slice(0, 10)}</td></tr>`)}</tbody></table>`
      : html`<p>${bi('記録はありません。', 'No records.')}</p>`
    : html`<p class="error">${s.problem === 'not_granted' ? bi('承認されませんでした。', 'Not approved.') : s.problem === 'forbidden' ? bi('アクセスが拒否されました。', 'Access refused.') : bi('読み込めませんでした。', 'Could not be read.')}</p>`}`)}
<p class="notice">${bi('この画面の記録は保存されません。一定時間後に消えます。', 'These records are not stored; this page expires after a while.')}</p>`;
}
