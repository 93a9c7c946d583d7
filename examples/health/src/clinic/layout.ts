import type { RecordType } from '../fhir.ts';
import { bi, html, type Html } from './html.ts';

export interface Chrome {
  clinicName: string;
  /** The signed-in doctor's name and the session's CSRF token (for the sign-out form). */
  doctor?: { name: string; csrf: string };
  /** Seconds after which the page reloads itself (the waiting page), without any script. */
  refreshSeconds?: number;
}

/** The page shell: one header, one main landmark, the stylesheet. Japanese, with English under it. */
export function layout(chrome: Chrome, title: Html, body: Html): string {
  return '<!doctype html>\n' + html`<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${chrome.refreshSeconds ? html`<meta http-equiv="refresh" content="${chrome.refreshSeconds}">` : ''}
<title>${chrome.clinicName}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header class="top"><span class="brand">${chrome.clinicName}</span>
${chrome.doctor ? html`<form class="inline" method="post" action="/logout"><span>${chrome.doctor.name}</span>
<input type="hidden" name="csrf" value="${chrome.doctor.csrf}"> <button class="quiet" type="submit">ログアウト <span lang="en">Sign out</span></button></form>` : ''}
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`.value;
}

/** FHIR record types in plain words, as Sekisho's consent screen names them. */
export const TYPE_NAMES: Record<RecordType, { ja: string; en: string }> = {
  AllergyIntolerance: { ja: 'アレルギー・副作用歴', en: 'Allergies and adverse reactions' },
  MedicationStatement: { ja: '服薬', en: 'Medicines' },
  Observation: { ja: '検査結果・バイタル', en: 'Test results and vital signs' },
  Condition: { ja: '病名・診断', en: 'Conditions and diagnoses' },
};
export const typeWords = (type: RecordType): Html => bi(TYPE_NAMES[type].ja, TYPE_NAMES[type].en);
