/** Records as a client sends them to be created (FHIR JSON), for `Patient/{ref}`. */

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const VITALS = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }];
const mmHg = (value: number) => ({ value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' });

export const BLOOD_PRESSURE = (ref: string, systolic = 128, diastolic = 82, when = '2026-02-01T07:30:00+09:00') => ({
  resourceType: 'Observation', status: 'final', category: VITALS, subject: { reference: `Patient/${ref}` },
  code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }] },
  effectiveDateTime: when,
  component: [
    { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: mmHg(systolic) },
    { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: mmHg(diastolic) },
  ],
});

export const WEIGHT = (ref: string, kg = 72.4) => ({
  resourceType: 'Observation', status: 'final', subject: { reference: `Patient/${ref}` },
  code: { coding: [{ system: LOINC, code: '29463-7' }] }, effectiveDateTime: '2026-02-01T07:35:00+09:00',
  valueQuantity: { value: kg, unit: 'kg', system: UCUM, code: 'kg' },
});

export const ALLERGY = (ref: string) => ({
  resourceType: 'AllergyIntolerance', patient: { reference: `Patient/${ref}` },
  code: { coding: [{ system: 'https://health.example/fhir/CodeSystem/allergen', code: 'buckwheat', display: 'Buckwheat' }] },
  criticality: 'high', reaction: [{ manifestation: [{ text: 'じんましん' }] }], onsetDateTime: '2025-12-01',
});
