import { randomUUID } from 'node:crypto';
import {
  FHIR_ID, patientReferenceOf, type ClinicalRecord, type HealthRecords, type Patient, type RecordType, type WritableRecord,
} from '../fhir.ts';

export interface RecordStore {
  patient(id: string): Patient | undefined;
  /** The patient's records of one type, in the order they were added; undefined for an unknown patient. */
  search(type: RecordType, patientId: string): ClinicalRecord[] | undefined;
  /** One record by type and id, with the FHIR id of the patient it is about. */
  read(type: RecordType, id: string): { record: ClinicalRecord; patientId: string } | undefined;
  /**
   * Adds a record the API has validated, under a new id. `full` when the patient already has
   * `maxAddedPerPatient` added records (the store is memory, and bounded).
   */
  add(record: WritableRecord): { ok: true; record: ClinicalRecord } | { ok: false; reason: 'unknown_patient' | 'full' };
}

/** Prefixes of the ids the store gives new records, as in the sample data (ob-0001). */
const ID_PREFIX: Record<WritableRecord['resourceType'], string> = { Observation: 'ob', AllergyIntolerance: 'al' };

/**
 * The records in memory, indexed once: the seeded ones, checked at start so that a mistake in the
 * data (a bad id, a record about nobody) stops the API then rather than on a request, and the
 * ones added through the API. Nothing is persisted; a restart is back to the seed.
 */
export function createRecordStore(data: HealthRecords, options: { maxAddedPerPatient?: number } = {}): RecordStore {
  const maxAdded = options.maxAddedPerPatient ?? 200;
  const patients = new Map<string, Patient>();
  for (const p of data.patients) {
    if (!FHIR_ID.test(p.id)) throw new TypeError(`sample data: Patient id ${JSON.stringify(p.id)} is not a FHIR id`);
    if (patients.has(p.id)) throw new TypeError(`sample data: Patient ${p.id} twice`);
    patients.set(p.id, p);
  }
  const byPatientAndType = new Map<string, ClinicalRecord[]>();
  const byKey = new Map<string, { record: ClinicalRecord; patientId: string }>();
  const added = new Map<string, number>();

  function index(r: ClinicalRecord, patientId: string): void {
    byKey.set(`${r.resourceType}/${r.id}`, { record: r, patientId });
    const list = byPatientAndType.get(`${patientId}|${r.resourceType}`) ?? [];
    list.push(r);
    byPatientAndType.set(`${patientId}|${r.resourceType}`, list);
  }

  for (const r of data.records) {
    const key = `${r.resourceType}/${r.id}`;
    if (!FHIR_ID.test(r.id) || byKey.has(key)) throw new TypeError(`sample data: ${key} has a bad or repeated id`);
    const patientId = patientIdOf(r);
    if (!patients.has(patientId)) throw new TypeError(`sample data: ${key} is about ${patientReferenceOf(r)}, who is not in the data`);
    index(r, patientId);
  }

  return {
    patient: (id) => patients.get(id),
    search(type, patientId) {
      if (!patients.has(patientId)) return undefined;
      return byPatientAndType.get(`${patientId}|${type}`) ?? [];
    },
    read: (type, id) => byKey.get(`${type}/${id}`),
    add(input) {
      const patientId = patientIdOf(input);
      if (!patients.has(patientId)) return { ok: false, reason: 'unknown_patient' };
      const count = added.get(patientId) ?? 0;
      if (count >= maxAdded) return { ok: false, reason: 'full' };
      // Random ids: a client that may read one patient cannot guess another patient's new records.
      const record = { ...input, id: `${ID_PREFIX[input.resourceType]}-${randomUUID()}` } as ClinicalRecord;
      added.set(patientId, count + 1);
      index(record, patientId);
      return { ok: true, record };
    },
  };
}

function patientIdOf(record: ClinicalRecord | WritableRecord): string {
  const reference = record.resourceType === 'AllergyIntolerance' ? record.patient.reference : record.subject.reference;
  return reference.startsWith('Patient/') ? reference.slice('Patient/'.length) : '';
}
