import type { AllergyIntolerance, Condition, HealthRecords, MedicationStatement, Meta, Observation, Patient, Quantity } from './fhir.ts';

/**
 * Seed data for the example health-record API. Every person here is FICTIONAL (架空 = "fictional"):
 * the names, dates and findings were made up for the demonstration and describe nobody. Each
 * resource carries the HL7 `HTEST` tag ("test health data") so that nothing downstream mistakes it
 * for a real record.
 *
 * Codes are real code systems (LOINC, ICD-10) so the shapes look like what a clinic would see;
 * `text` is what the clinic's screen shows.
 */

const FICTIONAL: Meta = { tag: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HTEST', display: 'test health data' }] };
const LOINC = 'http://loinc.org';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const UCUM = 'http://unitsofmeasure.org';
const ACTIVE = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }], text: 'active' };
const ALLERGY_ACTIVE = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }], text: 'active' };
const VITALS = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }];
const LAB = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }];

function patient(id: string, ja: [string, string], en: [string, string], gender: Patient['gender'], birthDate: string): Patient {
  return {
    resourceType: 'Patient', id, meta: FICTIONAL,
    name: [
      { use: 'official', text: `${ja[0]} ${ja[1]}`, family: ja[0], given: [ja[1]] },
      { use: 'usual', text: `${en[1]} ${en[0]} (fictional)`, family: en[0], given: [en[1]] },
    ],
    gender, birthDate,
  };
}

const ref = (patientId: string) => ({ reference: `Patient/${patientId}` });
const mmHg = (value: number): Quantity => ({ value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' });

function allergy(id: string, patientId: string, text: string, display: string, criticality: AllergyIntolerance['criticality'], reaction: string, recordedDate: string): AllergyIntolerance {
  return {
    resourceType: 'AllergyIntolerance', id, meta: FICTIONAL, clinicalStatus: ALLERGY_ACTIVE, patient: ref(patientId),
    code: { coding: [{ display }], text }, criticality, reaction: [{ manifestation: [{ text: reaction }] }], recordedDate,
  };
}

function medication(id: string, patientId: string, text: string, dosage: string, start: string): MedicationStatement {
  return {
    resourceType: 'MedicationStatement', id, meta: FICTIONAL, status: 'active', subject: ref(patientId),
    medicationCodeableConcept: { text }, dosage: [{ text: dosage }], effectivePeriod: { start },
  };
}

function bloodPressure(id: string, patientId: string, when: string, systolic: number, diastolic: number): Observation {
  return {
    resourceType: 'Observation', id, meta: FICTIONAL, status: 'final', category: VITALS, subject: ref(patientId),
    code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }], text: '血圧' },
    effectiveDateTime: when,
    component: [
      { code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }], text: '収縮期' }, valueQuantity: mmHg(systolic) },
      { code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }], text: '拡張期' }, valueQuantity: mmHg(diastolic) },
    ],
  };
}

function measurement(id: string, patientId: string, loinc: string, display: string, text: string, when: string, value: Quantity, lab = false): Observation {
  return {
    resourceType: 'Observation', id, meta: FICTIONAL, status: 'final', category: lab ? LAB : VITALS, subject: ref(patientId),
    code: { coding: [{ system: LOINC, code: loinc, display }], text }, effectiveDateTime: when, valueQuantity: value,
  };
}

const hba1c = (id: string, patientId: string, when: string, value: number) =>
  measurement(id, patientId, '4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', 'HbA1c', when, { value, unit: '%', system: UCUM, code: '%' }, true);

function condition(id: string, patientId: string, icd: string, display: string, text: string, onset: string): Condition {
  return {
    resourceType: 'Condition', id, meta: FICTIONAL, clinicalStatus: ACTIVE, subject: ref(patientId),
    code: { coding: [{ system: ICD10, code: icd, display }], text }, onsetDateTime: onset,
  };
}

/** Three fictional patients: an adult with hypertension and diabetes, an adult with asthma, a child. */
export const SAMPLE_RECORDS: HealthRecords = {
  patients: [
    patient('p-0001', ['架空', '太郎'], ['Kakuu', 'Taro'], 'male', '1968-04-12'),
    patient('p-0002', ['架空', '花子'], ['Kakuu', 'Hanako'], 'female', '1975-09-30'),
    patient('p-0003', ['架空', '次郎'], ['Kakuu', 'Jiro'], 'male', '2016-02-03'),
  ],
  records: [
    allergy('al-0001', 'p-0001', 'ペニシリン系抗菌薬', 'Penicillin', 'high', '全身の発疹 (rash)', '2015-06-01'),
    medication('ms-0001', 'p-0001', 'アムロジピン錠 5mg (amlodipine)', '1日1回 朝食後 1錠', '2019-03-15'),
    medication('ms-0002', 'p-0001', 'メトホルミン塩酸塩錠 500mg (metformin)', '1日2回 朝夕食後 1錠', '2021-08-02'),
    bloodPressure('ob-0001', 'p-0001', '2026-01-20T09:30:00+09:00', 138, 86),
    bloodPressure('ob-0002', 'p-0001', '2025-10-14T10:05:00+09:00', 142, 90),
    hba1c('ob-0003', 'p-0001', '2026-01-20T09:40:00+09:00', 7.1),
    hba1c('ob-0004', 'p-0001', '2025-10-14T10:15:00+09:00', 7.4),
    condition('co-0001', 'p-0001', 'I10', 'Essential (primary) hypertension', '本態性高血圧症', '2019-03-15'),
    condition('co-0002', 'p-0001', 'E11', 'Type 2 diabetes mellitus', '2型糖尿病', '2021-08-02'),

    allergy('al-0002', 'p-0002', '鶏卵', 'Egg', 'low', '口腔のかゆみ (oral itching)', '2010-11-20'),
    medication('ms-0003', 'p-0002', 'フルチカゾン吸入 100μg (fluticasone inhaler)', '1日2回 朝夕 1吸入', '2018-05-10'),
    measurement('ob-0005', 'p-0002', '29463-7', 'Body weight', '体重', '2026-02-02T14:00:00+09:00', { value: 54.2, unit: 'kg', system: UCUM, code: 'kg' }),
    bloodPressure('ob-0006', 'p-0002', '2026-02-02T14:00:00+09:00', 118, 74),
    condition('co-0003', 'p-0002', 'J45', 'Asthma', '気管支喘息', '2018-05-10'),

    allergy('al-0003', 'p-0003', 'ピーナッツ', 'Peanut', 'high', 'アナフィラキシー (anaphylaxis)', '2019-07-08'),
    measurement('ob-0007', 'p-0003', '8302-2', 'Body height', '身長', '2026-01-10T11:00:00+09:00', { value: 121.5, unit: 'cm', system: UCUM, code: 'cm' }),
    measurement('ob-0008', 'p-0003', '29463-7', 'Body weight', '体重', '2026-01-10T11:00:00+09:00', { value: 23.8, unit: 'kg', system: UCUM, code: 'kg' }),
    condition('co-0004', 'p-0003', 'L20', 'Atopic dermatitis', 'アトピー性皮膚炎', '2017-04-01'),
  ],
};
