import { checkUrl, insecureFor } from '@sekisho/example-kit/loopback';
import * as oauth from 'oauth4webapi';
import { FHIR_ID, type RecordType } from '../fhir.ts';

/**
 * One line of a section on the records page. `byPatient`: the patient added it themself (a home
 * reading, whose performer is the patient; an allergy they reported, still unconfirmed), which a
 * clinician should be able to tell from the hospital's own records.
 */
export interface RecordRow { title: string; detail: string; date: string; byPatient?: boolean }

export interface RecordsView {
  patient: { id: string; name: string; latinName?: string; birthDate?: string; gender?: string };
  sections: Array<{ type: RecordType; rows: RecordRow[] } | { type: RecordType; problem: 'not_granted' | 'forbidden' | 'failed' }>;
}

export type ReadResult = { ok: true; view: RecordsView } | { ok: false; error: 'patient_not_found' | 'forbidden' | 'unavailable' };

/** Observations are many; the page shows the latest ones. */
const RECENT_OBSERVATIONS = 10;
const MAX_BODY = 2 * 1024 * 1024;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Json : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const concept = (v: unknown): string => str(obj(v)?.text) || list(obj(v)?.coding).map((c) => str(obj(c)?.display)).find(Boolean) || '';
const quantity = (v: unknown): string => { const q = obj(v); return q && typeof q.value === 'number' ? `${q.value} ${str(q.unit)}`.trim() : ''; };

/**
 * Reads one patient's records from the health API with the DPoP-bound access token (oauth4webapi
 * `protectedResourceRequest`, a proof per request from the same DPoP handle): the Patient the
 * grant names (its `patient.ref`, the FHIR id), then each approved type. What comes back is
 * reduced to the lines the page shows; the raw resources and the token are not kept.
 */
export function createRecordReader(options: { healthApiUrl: string; signal: AbortSignal }) {
  const base = checkUrl('healthApiUrl', options.healthApiUrl.replace(/\/?$/, '/'));

  async function getJson(path: string, accessToken: string, dpop: oauth.DPoPHandle): Promise<{ status: number; body?: Json }> {
    const url = new URL(path, base);
    for (let attempt = 0; ; attempt += 1) {
      let response: Response;
      try {
        response = await oauth.protectedResourceRequest(accessToken, 'GET', url, new Headers({ accept: 'application/fhir+json' }), null, {
          DPoP: dpop, signal: options.signal, ...insecureFor(url),
        });
      } catch (err) {
        // A resource server may ask for a DPoP nonce too; the handle has kept it.
        if (attempt === 0 && oauth.isDPoPNonceError(err)) continue;
        if (err instanceof oauth.WWWAuthenticateChallengeError) return { status: err.status };
        throw err;
      }
      if (response.status !== 200) { await response.body?.cancel(); return { status: response.status }; }
      const text = await response.text();
      if (text.length > MAX_BODY) return { status: 502 };
      try { return { status: 200, body: obj(JSON.parse(text)) }; } catch { return { status: 502 }; }
    }
  }

  const entries = (bundle: Json | undefined): Json[] =>
    list(bundle?.entry).map((e) => obj(obj(e)?.resource)).filter((r): r is Json => r !== undefined);

  return {
    /** `patientId`: the FHIR Patient id the grant names (`patient.ref`). */
    async read(accessToken: string, dpop: oauth.DPoPHandle, patientId: string, granted: readonly RecordType[], asked: readonly RecordType[]): Promise<ReadResult> {
      if (!FHIR_ID.test(patientId)) return { ok: false, error: 'patient_not_found' };
      let found: { status: number; body?: Json };
      try {
        found = await getJson(`Patient/${encodeURIComponent(patientId)}`, accessToken, dpop);
      } catch {
        return { ok: false, error: 'unavailable' };
      }
      if (found.status === 401 || found.status === 403) return { ok: false, error: 'forbidden' };
      if (found.status === 404) return { ok: false, error: 'patient_not_found' };
      if (found.status !== 200) return { ok: false, error: 'unavailable' };
      const patient = found.body?.resourceType === 'Patient' && found.body.id === patientId ? found.body : undefined;
      if (!patient) return { ok: false, error: 'patient_not_found' };
      const id = patientId;

      const names = list(patient.name).map(obj);
      const official = names.find((n) => n?.use === 'official') ?? names[0];
      const usual = names.find((n) => n?.use === 'usual');
      const view: RecordsView = {
        patient: {
          id, name: str(official?.text) || [str(official?.family), ...list(official?.given).map(str)].join(' ').trim() || id,
          ...(usual && str(usual.text) ? { latinName: str(usual.text) } : {}),
          ...(str(patient.birthDate) ? { birthDate: str(patient.birthDate) } : {}),
          ...(str(patient.gender) ? { gender: str(patient.gender) } : {}),
        },
        sections: [],
      };

      view.sections = await Promise.all(asked.map(async (type): Promise<RecordsView['sections'][number]> => {
        if (!granted.includes(type)) return { type, problem: 'not_granted' };
        try {
          const result = await getJson(`${type}?patient=${encodeURIComponent(id)}`, accessToken, dpop);
          if (result.status === 403) return { type, problem: 'forbidden' };
          if (result.status !== 200) return { type, problem: 'failed' };
          return { type, rows: rowsOf(type, entries(result.body).filter((r) => r.resourceType === type)) };
        } catch {
          return { type, problem: 'failed' };
        }
      }));
      return { ok: true, view };
    },
  };
}
export type RecordReader = ReturnType<typeof createRecordReader>;

function rowsOf(type: RecordType, resources: Json[]): RecordRow[] {
  switch (type) {
    case 'AllergyIntolerance':
      return resources.map((r) => ({
        title: concept(r.code),
        detail: [r.criticality === 'high' ? '重篤 / high risk' : str(r.criticality), ...list(r.reaction).flatMap((x) => list(obj(x)?.manifestation).map(concept))].filter(Boolean).join('、'),
        date: str(r.recordedDate),
        ...(list(obj(r.verificationStatus)?.coding).some((c) => obj(c)?.code === 'unconfirmed') ? { byPatient: true } : {}),
      }));
    case 'MedicationStatement':
      return resources.map((r) => ({
        title: concept(r.medicationCodeableConcept),
        detail: list(r.dosage).map((d) => str(obj(d)?.text)).filter(Boolean).join('、'),
        date: str(obj(r.effectivePeriod)?.start),
      }));
    case 'Observation':
      return resources.map((r) => {
        const parts = list(r.component).map((c) => obj(obj(c)?.valueQuantity));
        const units = new Set(parts.map((q) => str(q?.unit)));
        // 血圧 138/86 mmHg: components of one unit read as one value.
        const value = quantity(r.valueQuantity) || (parts.length && units.size === 1
          ? `${parts.map((q) => str(q?.value)).join('/')} ${[...units][0]}`
          : list(r.component).map((c) => `${concept(obj(c)?.code)} ${quantity(obj(c)?.valueQuantity)}`).join('、'));
        const subject = str(obj(r.subject)?.reference);
        const byPatient = subject !== '' && list(r.performer).some((p) => str(obj(p)?.reference) === subject);
        return { title: concept(r.code), detail: value, date: str(r.effectiveDateTime), ...(byPatient ? { byPatient } : {}) };
      }).sort((a, b) => b.date.localeCompare(a.date)).slice(0, RECENT_OBSERVATIONS);
    case 'Condition':
      return resources.map((r) => ({ title: concept(r.code), detail: concept(r.clinicalStatus), date: str(r.onsetDateTime) }));
  }
}
