import { z } from 'zod';
import { html } from '../../ui/html.ts';
import type { Lang } from '../../ui/i18n.ts';
import type { Bilingual, CatalogueEntry } from '../catalogue.ts';
import type { AuthorizationDetailType } from './types.ts';
import {
  aside, check, chosenByPerson, chosenRef, groupNamed, hostsOf, joinWords, labelOf, locations, optionsOf, picked, stringsOf, subsetOf, typeMember,
} from './common.ts';

/**
 * `fhir_record_access`: reading a person's health records on a FHIR server, and adding to them,
 * in the spirit of SMART on FHIR's `patient/*.rs` and `patient/*.c` scopes. The client names the
 * record types and the actions (read, search, create); the person picks the patient (themselves,
 * or someone they act for). There is no update or delete: a record once added stays as it was
 * written, which is what a person can judge on a consent screen.
 *
 *   { "type": "fhir_record_access", "resource_types": ["Patient", "AllergyIntolerance"],
 *     "actions": ["read", "search"], "locations": ["https://fhir.hospital.example/r4/"] }
 *
 * Granted (enriched): the same plus `patient: { id, label, ref }`, the linked resource chosen.
 */
export const FHIR_RECORD_ACCESS = 'fhir_record_access';
/** The linked resources a person picks from. */
export const FHIR_PATIENT = 'fhir_patient';

/** FHIR resource types in plain words. The two medication types are one thing to a person. */
export const RECORD_TYPE_WORDS: Record<string, Bilingual> = {
  Patient: { ja: '基本情報', en: 'Basic details' },
  MedicationRequest: { ja: '服薬', en: 'Medicines' },
  MedicationStatement: { ja: '服薬', en: 'Medicines' },
  AllergyIntolerance: { ja: 'アレルギー・副作用歴', en: 'Allergies and adverse reactions' },
  Observation: { ja: '検査結果・バイタル', en: 'Test results and vital signs' },
  Condition: { ja: '病名・診断', en: 'Conditions and diagnoses' },
  Immunization: { ja: '予防接種', en: 'Vaccinations' },
  DocumentReference: { ja: '診療文書', en: 'Clinical documents' },
};
const RESOURCE_TYPES = Object.keys(RECORD_TYPE_WORDS) as [string, ...string[]];
const ACTIONS = ['read', 'search', 'create'] as const;

const schema = z.object({
  type: typeMember(FHIR_RECORD_ACCESS),
  resource_types: subsetOf(RESOURCE_TYPES),
  actions: subsetOf(ACTIONS),
  locations: locations.optional(),
}).strict();

const WORDS = {
  ja: {
    records: '参照する記録', how: '操作', read: '閲覧', search: '検索', create: '追加', readOnly: '記録の変更はできません',
    addOnly: 'すでにある記録の変更・削除はできません', recordsAdded: '参照・追加する記録', where: '利用先', adds: '診療記録の参照と追加',
  },
  en: {
    records: 'Records', how: 'What it can do', read: 'Read', search: 'Search', create: 'Add', readOnly: 'it cannot change your records',
    addOnly: 'it cannot change or delete the records already there', recordsAdded: 'Records', where: 'Used with', adds: 'See and add to your health records',
  },
} satisfies Record<Lang, Record<string, string>>;

/** The record types in plain words, each once, in the order given. */
function recordWords(lang: Lang, types: unknown): string[] {
  return [...new Set(stringsOf(types).map((t) => (Object.hasOwn(RECORD_TYPE_WORDS, t) ? RECORD_TYPE_WORDS[t]![lang] : t)))];
}

const label: CatalogueEntry = {
  short: { ja: '診療記録の参照', en: 'See your health records' },
  long: {
    ja: 'お客さまが選んだ患者の診療記録のうち、示された種類の記録を参照します。操作に「追加」があるときは、その種類の記録を追加することもできます。すでにある記録を変更・削除することはできません。',
    en: 'The service reads the kinds of health record shown, for the patient you choose. When "Add" is among what it can do, it can also add records of those kinds. It cannot change or delete the records already there.',
  },
  sensitive: true,
};

export const fhirRecordAccess: AuthorizationDetailType = {
  type: FHIR_RECORD_ACCESS,
  label,
  oneTime: false,

  validate(detail) {
    return chosenByPerson(detail, ['patient']) ?? check(schema, detail);
  },

  async choices(_detail, linked) {
    return [{
      name: 'patient', label: { ja: '対象の患者', en: 'Whose records' },
      multiple: false, min: 1, options: await optionsOf(linked, FHIR_PATIENT),
    }];
  },

  render(lang, detail) {
    const w = WORDS[lang];
    const actions = stringsOf(detail.actions);
    const how = ACTIONS.filter((a) => actions.includes(a)).map((a) => w[a]);
    // "It cannot change your records" is true only without create; with it, what stays true is
    // that nothing already there is changed or deleted (the type has no update or delete).
    const adds = actions.includes('create');
    const note = adds ? w.addOnly : w.readOnly;
    const hosts = hostsOf(detail.locations);
    return html`<dl class="facts">
<dt>${adds ? w.recordsAdded : w.records}</dt><dd><ul class="parts">${recordWords(lang, detail.resource_types).map((r) => html`<li>${r}</li>`)}</ul></dd>
<dt>${w.how}</dt><dd>${joinWords(lang, how)}${aside(lang, note)}</dd>
${hosts.length ? html`<dt>${w.where}</dt><dd>${joinWords(lang, hosts)}</dd>` : ''}
</dl>`.value;
  },

  title(lang, detail) {
    return stringsOf(detail.actions).includes('create') ? WORDS[lang].adds : label.short[lang];
  },

  summary(lang, granted) {
    // 「山田 花子：基本情報、服薬」: the patient, then the records (a record name may hold a ・).
    const records = joinWords(lang, recordWords(lang, granted.resource_types));
    const patient = labelOf(granted.patient);
    return `${fhirRecordAccess.title!(lang, granted)}${aside(lang, [patient, records].filter(Boolean).join(lang === 'ja' ? '：' : ': '))}`;
  },

  grant(detail, selected, groups) {
    const group = groupNamed(groups, 'patient');
    const chosen = group && picked([group], selected)?.get('patient');
    return chosen?.length === 1 ? { ...detail, patient: chosenRef(chosen[0]!) } : undefined;
  },
};
