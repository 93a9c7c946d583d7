import { bi, html, type Html } from '@sekisho/example-kit/html';
import { pageShell } from '@sekisho/example-kit/page';
import type { RecordType } from '../fhir.ts';

/** What every page's header needs. */
export interface Chrome {
  clinicName: string;
  /** The signed-in doctor's name and the session's CSRF token (for the sign-out form). */
  doctor?: { name: string; csrf: string };
  /** Seconds after which the page reloads itself (the waiting page), without any script. */
  refreshSeconds?: number;
}

/** A page of the clinic's records system: its name and the sign-out form in the header. Japanese, with English under it. */
export function layout(chrome: Chrome, title: Html, body: Html): string {
  return pageShell({
    lang: 'ja', title: chrome.clinicName, heading: title, body,
    ...(chrome.refreshSeconds ? { head: html`<meta http-equiv="refresh" content="${chrome.refreshSeconds}">` } : {}),
    header: html`<span class="brand">${chrome.clinicName}</span>
${chrome.doctor ? html`<form class="inline" method="post" action="/logout"><span>${chrome.doctor.name}</span>
<input type="hidden" name="csrf" value="${chrome.doctor.csrf}"> <button class="quiet" type="submit">ログアウト <span lang="en">Sign out</span></button></form>` : ''}
`,
  });
}

/** FHIR record types in plain words, as Sekisho's consent screen names them. */
export const TYPE_NAMES: Record<RecordType, { ja: string; en: string }> = {
  AllergyIntolerance: { ja: 'アレルギー・副作用歴', en: 'Allergies and adverse reactions' },
  MedicationStatement: { ja: '服薬', en: 'Medicines' },
  Observation: { ja: '検査結果・バイタル', en: 'Test results and vital signs' },
  Condition: { ja: '病名・診断', en: 'Conditions and diagnoses' },
};
export const typeWords = (type: RecordType): Html => bi(TYPE_NAMES[type].ja, TYPE_NAMES[type].en);
