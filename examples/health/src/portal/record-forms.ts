import {
  ALLERGEN_SYSTEM, ALLERGY_CLINICAL, ALLERGY_VERIFICATION, BLOOD_PRESSURE, BODY_WEIGHT, CRITICALITIES, DIASTOLIC, isAllergenCode, LOINC,
  OBSERVATION_CATEGORY, RANGES, SYSTOLIC, UCUM,
} from '../record-codes.ts';
import type { Words } from './words.ts';

/** The three forms of the portal, by the path they post to. */
export type RecordForm = 'blood-pressure' | 'body-weight' | 'allergy';
export const FORM_TYPES: Record<RecordForm, 'Observation' | 'AllergyIntolerance'> = {
  'blood-pressure': 'Observation', 'body-weight': 'Observation', allergy: 'AllergyIntolerance',
};

export type FormError = keyof Words['errors'];
export type FormResult = { ok: true; resource: Record<string, unknown> } | { ok: false; error: Exclude<FormError, 'refusedByApi'> };

/** What the browser's datetime-local input sends: a local time without seconds or zone. */
const LOCAL_DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2}))?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const WHOLE = /^\d{1,3}$/;
const KG = /^\d{1,3}(?:\.\d)?$/;
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;

/**
 * A form's fields as the FHIR resource the health API takes. The portal checks what a person
 * typed (to say what is wrong in their language); the API checks again, strictly, and is the one
 * that decides. Times are local to the patient (`zone`, +09:00 for Japan) and given seconds and
 * the zone, as FHIR dateTime needs.
 */
export function resourceFromForm(form: RecordForm, fields: URLSearchParams, patientRef: string, zone: string, now = Date.now()): FormResult {
  const field = (name: string) => (fields.getAll(name).length === 1 ? fields.get(name)!.trim() : '');
  const when = (): string | undefined => {
    const m = LOCAL_DATE_TIME.exec(field('measured_at'));
    if (!m) return undefined;
    const value = `${m[1]}T${m[2]}:${m[3] ?? '00'}${zone}`;
    const at = Date.parse(value);
    return Number.isNaN(at) || at > now + 5 * 60_000 || at < Date.UTC(1900, 0, 1) ? undefined : value;
  };
  const subject = { reference: `Patient/${patientRef}` };
  const vitalSigns = [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'vital-signs' }] }];

  if (form === 'blood-pressure') {
    const sys = field('systolic');
    const dia = field('diastolic');
    if (!WHOLE.test(sys) || Number(sys) < RANGES.systolic.min || Number(sys) > RANGES.systolic.max) return { ok: false, error: 'systolic' };
    if (!WHOLE.test(dia) || Number(dia) < RANGES.diastolic.min || Number(dia) > RANGES.diastolic.max) return { ok: false, error: 'diastolic' };
    if (Number(sys) <= Number(dia)) return { ok: false, error: 'order' };
    const effectiveDateTime = when();
    if (!effectiveDateTime) return { ok: false, error: 'when' };
    const mmHg = (value: string) => ({ value: Number(value), unit: 'mmHg', system: UCUM, code: 'mm[Hg]' });
    return {
      ok: true,
      resource: {
        resourceType: 'Observation', status: 'final', category: vitalSigns, subject, effectiveDateTime,
        code: { coding: [{ system: LOINC, code: BLOOD_PRESSURE, display: 'Blood pressure panel' }] },
        component: [
          { code: { coding: [{ system: LOINC, code: SYSTOLIC }] }, valueQuantity: mmHg(sys) },
          { code: { coding: [{ system: LOINC, code: DIASTOLIC }] }, valueQuantity: mmHg(dia) },
        ],
      },
    };
  }

  if (form === 'body-weight') {
    const kg = field('weight');
    if (!KG.test(kg) || Number(kg) < RANGES.weightKg.min || Number(kg) > RANGES.weightKg.max) return { ok: false, error: 'weight' };
    const effectiveDateTime = when();
    if (!effectiveDateTime) return { ok: false, error: 'when' };
    return {
      ok: true,
      resource: {
        resourceType: 'Observation', status: 'final', category: vitalSigns, subject, effectiveDateTime,
        code: { coding: [{ system: LOINC, code: BODY_WEIGHT, display: 'Body weight' }] },
        valueQuantity: { value: Number(kg), unit: 'kg', system: UCUM, code: 'kg' },
      },
    };
  }

  const allergen = field('allergen');
  if (!isAllergenCode(allergen)) return { ok: false, error: 'allergen' };
  const criticality = field('criticality');
  if (criticality !== '' && !(CRITICALITIES as readonly string[]).includes(criticality)) return { ok: false, error: 'criticality' };
  const reaction = field('reaction');
  if (reaction.length > 100 || UNPRINTABLE.test(reaction)) return { ok: false, error: 'reaction' };
  const noticed = field('noticed_on');
  if (noticed !== '' && (!DATE.test(noticed) || Number.isNaN(Date.parse(noticed)) || Date.parse(noticed) > now + 14 * 3600_000 || Date.parse(noticed) < Date.UTC(1900, 0, 1))) {
    return { ok: false, error: 'noticedOn' };
  }
  return {
    ok: true,
    resource: {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: { coding: [{ system: ALLERGY_CLINICAL, code: 'active' }] },
      verificationStatus: { coding: [{ system: ALLERGY_VERIFICATION, code: 'unconfirmed' }] },
      code: { coding: [{ system: ALLERGEN_SYSTEM, code: allergen }] },
      patient: subject,
      ...(criticality ? { criticality } : {}),
      ...(reaction ? { reaction: [{ manifestation: [{ text: reaction }] }] } : {}),
      ...(noticed ? { onsetDateTime: noticed } : {}),
    },
  };
}
