/**
 * The small part of FHIR R4 this example speaks: four clinical resource types and Patient, read
 * and searched by patient, and two of them (Observation, AllergyIntolerance) created by the
 * patient. Types are written out (not generated) so the example has no FHIR dependency; they hold
 * only the elements the sample data, the pages and the write rules use.
 */

/** FHIR `id` (R4 datatypes): 1 to 64 of A–Z, a–z, 0–9, `-` and `.`. */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** The record types the clinic may ask for, besides Patient (always asked: name and birth date). */
export const RECORD_TYPES = ['AllergyIntolerance', 'MedicationStatement', 'Observation', 'Condition'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];
export type ResourceType = 'Patient' | RecordType;

export const isRecordType = (value: string): value is RecordType => (RECORD_TYPES as readonly string[]).includes(value);

/** The record types a patient may add to (home measurements, an allergy they know of). */
export const WRITABLE_TYPES = ['Observation', 'AllergyIntolerance'] as const;
export type WritableType = (typeof WRITABLE_TYPES)[number];
export const isWritableType = (value: string): value is WritableType => (WRITABLE_TYPES as readonly string[]).includes(value);

export interface Coding { system?: string; code?: string; display?: string }
export interface CodeableConcept { coding?: Coding[]; text?: string }
export interface Reference { reference: string; display?: string }
export interface Quantity { value: number; unit: string; system?: string; code?: string }
export interface HumanName { use?: 'official' | 'usual'; text?: string; family?: string; given?: string[] }
export interface Identifier { system?: string; value: string }
export interface Meta { lastUpdated?: string; tag?: Coding[] }

export interface Patient {
  resourceType: 'Patient';
  id: string;
  meta?: Meta;
  identifier?: Identifier[];
  name: HumanName[];
  gender?: 'male' | 'female' | 'other' | 'unknown';
  birthDate?: string;
}

export interface AllergyIntolerance {
  resourceType: 'AllergyIntolerance';
  id: string;
  meta?: Meta;
  clinicalStatus?: CodeableConcept;
  verificationStatus?: CodeableConcept;
  /** R4 names the patient `patient` here, not `subject`. */
  patient: Reference;
  code: CodeableConcept;
  criticality?: 'low' | 'high' | 'unable-to-assess';
  reaction?: Array<{ manifestation: CodeableConcept[] }>;
  /** When it began or was first noticed (a date, or a dateTime). */
  onsetDateTime?: string;
  recordedDate?: string;
}

export interface MedicationStatement {
  resourceType: 'MedicationStatement';
  id: string;
  meta?: Meta;
  status: 'active' | 'completed' | 'stopped' | 'on-hold' | 'intended' | 'unknown';
  subject: Reference;
  medicationCodeableConcept: CodeableConcept;
  dosage?: Array<{ text: string }>;
  effectivePeriod?: { start?: string; end?: string };
}

export interface Observation {
  resourceType: 'Observation';
  id: string;
  meta?: Meta;
  status: 'final' | 'preliminary' | 'amended';
  category?: CodeableConcept[];
  subject: Reference;
  /** Who took the measurement: the patient themself for a reading they added from home. */
  performer?: Reference[];
  code: CodeableConcept;
  effectiveDateTime: string;
  valueQuantity?: Quantity;
  component?: Array<{ code: CodeableConcept; valueQuantity: Quantity }>;
}

export interface Condition {
  resourceType: 'Condition';
  id: string;
  meta?: Meta;
  clinicalStatus?: CodeableConcept;
  subject: Reference;
  code: CodeableConcept;
  onsetDateTime?: string;
}

export type ClinicalRecord = AllergyIntolerance | MedicationStatement | Observation | Condition;
/** A record as a client sends it to be created: everything but the id, which the server gives. */
export type WritableRecord = Omit<Observation, 'id'> | Omit<AllergyIntolerance, 'id'>;
export type Resource = Patient | ClinicalRecord;

/** What the health API serves: the patients and their records. */
export interface HealthRecords {
  patients: Patient[];
  records: ClinicalRecord[];
}

export interface BundleEntry<R extends Resource = Resource> { fullUrl: string; resource: R; search: { mode: 'match' } }
export interface Bundle<R extends Resource = Resource> {
  resourceType: 'Bundle';
  type: 'searchset';
  total: number;
  link: Array<{ relation: 'self'; url: string }>;
  entry: Array<BundleEntry<R>>;
}

/** The patient a record is about: `patient` for AllergyIntolerance, `subject` for the others. */
export function patientReferenceOf(record: ClinicalRecord): string {
  return record.resourceType === 'AllergyIntolerance' ? record.patient.reference : record.subject.reference;
}
