import { FHIR_ID, type Quantity, type WritableRecord, type WritableType } from '../fhir.ts';
import {
  ALLERGEN_SYSTEM, ALLERGENS, ALLERGY_CLINICAL, ALLERGY_VERIFICATION, BLOOD_PRESSURE, BODY_WEIGHT, CRITICALITIES, DIASTOLIC, isAllergenCode,
  LOINC, OBSERVATION_CATEGORY, RANGES, SYSTOLIC, UCUM,
} from '../record-codes.ts';
import { array, exactly, InputError, malformed, number, object, refused, text, when } from './json-shape.ts';

export type NewRecord =
  | { ok: true; record: WritableRecord; patientId: string }
  | { ok: false; status: 400 | 422; detail: string };

const REFERENCE = /^Patient\/([A-Za-z0-9\-.]{1,64})$/;
const TEST_DATA = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HTEST', display: 'test health data' };

/**
 * A record a client asks to create, checked strictly and rebuilt: only the members listed here,
 * no `id` or `meta` (the server gives them), the patient as `Patient/{id}`, codes from the short
 * lists of record-codes.ts, values in range, dates neither before 1900 nor in the future. What is
 * stored is the rebuilt record, never the body as sent.
 *
 * Whether the client may write for that patient is not checked here: `patientId` is what the
 * caller authorizes (the token's fhir_record_access detail must name it).
 */
export function parseNewRecord(type: WritableType, body: unknown, now = Date.now()): NewRecord {
  try {
    const record = type === 'Observation' ? observation(body, now) : allergy(body, now);
    const reference = record.resourceType === 'AllergyIntolerance' ? record.patient.reference : record.subject.reference;
    return { ok: true, record: { ...record, meta: { lastUpdated: new Date(now).toISOString(), tag: [TEST_DATA] } }, patientId: reference.slice('Patient/'.length) };
  } catch (err) {
    if (err instanceof InputError) return { ok: false, status: err.status, detail: err.message };
    throw err;
  }
}

function patientReference(value: unknown, path: string): { reference: string } {
  const o = object(value, path, ['reference', 'display'], ['reference']);
  if (o.display !== undefined) text(o.display, `${path}.display`, 200);
  const match = REFERENCE.exec(typeof o.reference === 'string' ? o.reference : '');
  if (!match || !FHIR_ID.test(match[1]!)) return malformed(`${path}.reference`, 'must be Patient/{id} with a FHIR id');
  return { reference: `Patient/${match[1]}` };
}

/**
 * A CodeableConcept with one coding of `system`; returns the code, checked by `accept`. No `text`:
 * the clinic's screen shows a concept's text first, so a client could label a blood pressure
 * anything; the server words every code itself. A coding's `display` is allowed and replaced.
 */
function concept(value: unknown, path: string, system: string, accept: (code: string) => boolean, allowed: string): string {
  const o = object(value, path, ['coding'], ['coding']);
  const [coding] = array(o.coding, `${path}.coding`, 1, 1);
  const c = object(coding, `${path}.coding[0]`, ['system', 'code', 'display'], ['system', 'code']);
  const code = text(c.code, `${path}.coding[0].code`, 64);
  if (c.display !== undefined) text(c.display, `${path}.coding[0].display`, 200);
  exactly(text(c.system, `${path}.coding[0].system`, 200), `${path}.coding[0].system`, system);
  if (!accept(code)) refused(`${path}.coding[0].code`, `must be ${allowed}`);
  return code;
}

function quantity(value: unknown, path: string, unit: string, ucum: string, range: { min: number; max: number }, decimals: number): Quantity {
  const q = object(value, path, ['value', 'unit', 'system', 'code'], ['value', 'unit', 'system', 'code']);
  const v = number(q.value, `${path}.value`);
  exactly(q.system, `${path}.system`, UCUM);
  exactly(q.code, `${path}.code`, ucum);
  exactly(q.unit, `${path}.unit`, unit);
  if (v < range.min || v > range.max) refused(`${path}.value`, `must be between ${range.min} and ${range.max} ${unit}`);
  if (Math.round(v * 10 ** decimals) !== v * 10 ** decimals) refused(`${path}.value`, decimals ? `at most ${decimals} decimal place` : 'must be a whole number');
  return { value: v, unit, system: UCUM, code: ucum };
}

const VITAL_SIGNS = [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'vital-signs' }] }];
const mmHg = (value: unknown, path: string, range: { min: number; max: number }) => quantity(value, path, 'mmHg', 'mm[Hg]', range, 0);

/** A home blood pressure (LOINC 85354-9, systolic and diastolic components) or body weight (29463-7). */
function observation(body: unknown, now: number): Extract<WritableRecord, { resourceType: 'Observation' }> {
  const o = object(body, 'Observation', ['resourceType', 'status', 'category', 'code', 'subject', 'effectiveDateTime', 'valueQuantity', 'component'],
    ['resourceType', 'status', 'code', 'subject', 'effectiveDateTime']);
  exactly(o.resourceType, 'Observation.resourceType', 'Observation', 400);
  if (text(o.status, 'Observation.status', 20) !== 'final') refused('Observation.status', 'must be final (a measurement taken)');
  if (o.category !== undefined) {
    const [category] = array(o.category, 'Observation.category', 1, 1);
    concept(category, 'Observation.category[0]', OBSERVATION_CATEGORY, (c) => c === 'vital-signs', 'vital-signs');
  }
  const code = concept(o.code, 'Observation.code', LOINC, (c) => c === BLOOD_PRESSURE || c === BODY_WEIGHT, `${BLOOD_PRESSURE} (blood pressure) or ${BODY_WEIGHT} (body weight)`);
  const subject = patientReference(o.subject, 'Observation.subject');
  const effectiveDateTime = when(o.effectiveDateTime, 'Observation.effectiveDateTime', now, false);
  // Measured by the patient, at home: said in the record, so a clinician can tell it from the clinic's own.
  const common = { resourceType: 'Observation' as const, status: 'final' as const, category: VITAL_SIGNS, subject, performer: [subject], effectiveDateTime };

  if (code === BODY_WEIGHT) {
    if (o.component !== undefined) malformed('Observation.component', 'a body weight has no components');
    if (o.valueQuantity === undefined) malformed('Observation.valueQuantity', 'missing');
    return {
      ...common, code: { coding: [{ system: LOINC, code: BODY_WEIGHT, display: 'Body weight' }], text: '体重' },
      valueQuantity: quantity(o.valueQuantity, 'Observation.valueQuantity', 'kg', 'kg', RANGES.weightKg, 1),
    };
  }
  if (o.valueQuantity !== undefined) malformed('Observation.valueQuantity', 'a blood pressure has its values in two components');
  const parts = array(o.component, 'Observation.component', 2, 2).map((c, i) => {
    const path = `Observation.component[${i}]`;
    const part = object(c, path, ['code', 'valueQuantity'], ['code', 'valueQuantity']);
    const partCode = concept(part.code, `${path}.code`, LOINC, (x) => x === SYSTOLIC || x === DIASTOLIC, `${SYSTOLIC} (systolic) or ${DIASTOLIC} (diastolic)`);
    return { code: partCode, value: mmHg(part.valueQuantity, `${path}.valueQuantity`, partCode === SYSTOLIC ? RANGES.systolic : RANGES.diastolic) };
  });
  const systolic = parts.find((p) => p.code === SYSTOLIC);
  const diastolic = parts.find((p) => p.code === DIASTOLIC);
  if (!systolic || !diastolic) return refused('Observation.component', `must be one systolic (${SYSTOLIC}) and one diastolic (${DIASTOLIC})`);
  if (systolic.value.value <= diastolic.value.value) refused('Observation.component', 'the systolic value must be above the diastolic');
  return {
    ...common, code: { coding: [{ system: LOINC, code: BLOOD_PRESSURE, display: 'Blood pressure panel' }], text: '血圧' },
    component: [
      { code: { coding: [{ system: LOINC, code: SYSTOLIC, display: 'Systolic blood pressure' }], text: '収縮期' }, valueQuantity: systolic.value },
      { code: { coding: [{ system: LOINC, code: DIASTOLIC, display: 'Diastolic blood pressure' }], text: '拡張期' }, valueQuantity: diastolic.value },
    ],
  };
}

/** An allergy the patient reports: an allergen from the list, unconfirmed until a clinician confirms it. */
function allergy(body: unknown, now: number): Extract<WritableRecord, { resourceType: 'AllergyIntolerance' }> {
  const o = object(body, 'AllergyIntolerance', ['resourceType', 'clinicalStatus', 'verificationStatus', 'code', 'patient', 'criticality', 'reaction', 'onsetDateTime', 'recordedDate'],
    ['resourceType', 'code', 'patient']);
  exactly(o.resourceType, 'AllergyIntolerance.resourceType', 'AllergyIntolerance', 400);
  if (o.clinicalStatus !== undefined) concept(o.clinicalStatus, 'AllergyIntolerance.clinicalStatus', ALLERGY_CLINICAL, (c) => c === 'active', 'active');
  // A patient's own report is not a clinician's confirmation: only "unconfirmed" may come from them.
  if (o.verificationStatus !== undefined) concept(o.verificationStatus, 'AllergyIntolerance.verificationStatus', ALLERGY_VERIFICATION, (c) => c === 'unconfirmed', 'unconfirmed');
  const code = concept(o.code, 'AllergyIntolerance.code', ALLERGEN_SYSTEM, isAllergenCode, `one of ${Object.keys(ALLERGENS).join(', ')}`);
  const allergen = ALLERGENS[code as keyof typeof ALLERGENS];
  const patient = patientReference(o.patient, 'AllergyIntolerance.patient');
  let criticality: (typeof CRITICALITIES)[number] | undefined;
  if (o.criticality !== undefined) {
    if (!(CRITICALITIES as readonly unknown[]).includes(o.criticality)) malformed('AllergyIntolerance.criticality', `must be ${CRITICALITIES.join(', ')}`);
    criticality = o.criticality as (typeof CRITICALITIES)[number];
  }
  let reaction: Array<{ manifestation: Array<{ text: string }> }> | undefined;
  if (o.reaction !== undefined) {
    const [first] = array(o.reaction, 'AllergyIntolerance.reaction', 1, 1);
    const r = object(first, 'AllergyIntolerance.reaction[0]', ['manifestation'], ['manifestation']);
    reaction = [{
      manifestation: array(r.manifestation, 'AllergyIntolerance.reaction[0].manifestation', 1, 3).map((m, i) => {
        const path = `AllergyIntolerance.reaction[0].manifestation[${i}]`;
        return { text: text(object(m, path, ['text'], ['text']).text, `${path}.text`, 100) };
      }),
    }];
  }
  const onsetDateTime = o.onsetDateTime === undefined ? undefined : when(o.onsetDateTime, 'AllergyIntolerance.onsetDateTime', now, true);
  const recordedDate = o.recordedDate === undefined ? new Date(now).toISOString() : when(o.recordedDate, 'AllergyIntolerance.recordedDate', now, true);
  return {
    resourceType: 'AllergyIntolerance',
    clinicalStatus: { coding: [{ system: ALLERGY_CLINICAL, code: 'active' }], text: 'active' },
    verificationStatus: { coding: [{ system: ALLERGY_VERIFICATION, code: 'unconfirmed' }], text: 'unconfirmed' },
    patient,
    code: { coding: [{ system: ALLERGEN_SYSTEM, code, display: allergen.en }], text: allergen.ja },
    ...(criticality ? { criticality } : {}),
    ...(reaction ? { reaction } : {}),
    ...(onsetDateTime ? { onsetDateTime } : {}),
    recordedDate,
  };
}
