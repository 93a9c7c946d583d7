import { FHIR_ID, patientReferenceOf, type ClinicalRecord, type HealthRecords, type Patient, type RecordType } from '../fhir.ts';

export interface RecordStore {
  patient(id: string): Patient | undefined;
  /** The patient's records of one type, in the order of the data; undefined for an unknown patient. */
  search(type: RecordType, patientId: string): ClinicalRecord[] | undefined;
}

/**
 * Read-only lookups over the seeded records, indexed once. The data is checked here so that a
 * mistake in it (a bad id, a record about nobody) stops the API at start, not on a request.
 */
export function createRecordStore(data: HealthRecords): RecordStore {
  const patients = new Map<string, Patient>();
  for (const p of data.patients) {
    if (!FHIR_ID.test(p.id)) throw new TypeError(`sample data: Patient id ${JSON.stringify(p.id)} is not a FHIR id`);
    if (patients.has(p.id)) throw new TypeError(`sample data: Patient ${p.id} twice`);
    patients.set(p.id, p);
  }
  const byPatientAndType = new Map<string, ClinicalRecord[]>();
  const seen = new Set<string>();
  for (const r of data.records) {
    const key = `${r.resourceType}/${r.id}`;
    if (!FHIR_ID.test(r.id) || seen.has(key)) throw new TypeError(`sample data: ${key} has a bad or repeated id`);
    seen.add(key);
    const reference = patientReferenceOf(r);
    const patientId = reference.startsWith('Patient/') ? reference.slice('Patient/'.length) : '';
    if (!patients.has(patientId)) throw new TypeError(`sample data: ${key} is about ${reference}, who is not in the data`);
    const list = byPatientAndType.get(`${patientId}|${r.resourceType}`) ?? [];
    list.push(r);
    byPatientAndType.set(`${patientId}|${r.resourceType}`, list);
  }

  return {
    patient: (id) => patients.get(id),
    search(type, patientId) {
      if (!patients.has(patientId)) return undefined;
      return byPatientAndType.get(`${patientId}|${type}`) ?? [];
    },
  };
}
