import type { JWTAccessTokenClaims } from 'oauth4webapi';
import type { ResourceType } from '../fhir.ts';

/** Sekisho's RAR type for reading health records (packages/server/src/consent/authorization-details/fhir-record-access.ts). */
export const FHIR_RECORD_ACCESS = 'fhir_record_access';

export type FhirAction = 'read' | 'search';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/**
 * The patients a token lets its holder `action` records of `resourceType` for, as FHIR Patient ids.
 *
 * Authority comes only from `authorization_details` entries of type `fhir_record_access`, as
 * Sekisho grants them: `{ type, resource_types, actions, locations?, patient: { id, label, ref } }`,
 * where `patient` is what the person chose on their phone: `id` is Sekisho's (random) id of the
 * linked patient record, `ref` the id the hospital gave when it linked the record, here the FHIR
 * Patient id. Only `ref` names a patient to this API. SMART-style scopes
 * (`patient/Observation.read`) are not honoured: they mean something only with a patient context
 * in the token, and Sekisho's tokens carry none (no `patient` claim); a scope alone would open
 * every patient's records.
 *
 * A detail with `locations` counts only when one of them is this API (RFC 9396 §2.2).
 */
export function grantedPatientIds(claims: JWTAccessTokenClaims, resourceType: ResourceType, action: FhirAction, audience: string): string[] {
  const details: unknown = claims.authorization_details;
  if (!Array.isArray(details)) return [];
  const ids = new Set<string>();
  for (const d of details as unknown[]) {
    if (!isObject(d) || d.type !== FHIR_RECORD_ACCESS) continue;
    if (!strings(d.resource_types).includes(resourceType) || !strings(d.actions).includes(action)) continue;
    if (d.locations !== undefined && !strings(d.locations).some((l) => sameResource(l, audience))) continue;
    if (isObject(d.patient) && typeof d.patient.ref === 'string' && d.patient.ref) ids.add(d.patient.ref);
  }
  return [...ids];
}

/** Two resource identifiers compared as URLs, ignoring one trailing slash. */
function sameResource(a: string, b: string): boolean {
  const norm = (s: string) => (URL.canParse(s) ? new URL(s).href.replace(/\/$/, '') : s);
  return norm(a) === norm(b);
}
