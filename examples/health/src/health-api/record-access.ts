import { decodeJwt } from 'jose';
import type { AuthorizationDetail, VerifyOptions } from '@sekisho/resource-server';
import type { ResourceType } from '../fhir.ts';

/** Sekisho's RAR type for health records (packages/server/src/consent/authorization-details/fhir-record-access.ts). */
export const FHIR_RECORD_ACCESS = 'fhir_record_access';

/** What a request does to records of one type: the detail's `actions`. */
export type FhirAction = 'read' | 'search' | 'create';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/**
 * The SMART App Launch scope for an interaction on a type, in v2 syntax (`patient/Observation.rs`
 * for read and search, `.c` for create) and its v1 equivalent (`.read`, `.write`). Only these
 * exact scopes count: no wildcards (`patient/*.rs`), which this API's resource server does not
 * declare, so Sekisho never issues them.
 */
export function smartScopes(type: ResourceType, action: FhirAction): { v2: string; v1: string } {
  return action === 'create'
    ? { v2: `patient/${type}.c`, v1: `patient/${type}.write` }
    : { v2: `patient/${type}.rs`, v1: `patient/${type}.read` };
}

/**
 * Which of the two scope spellings to require of this request. The SDK requires every scope it
 * is given, and SMART allows either spelling, so the token's own `scope` picks the one to require:
 * read here unverified, it only chooses the requirement, which the SDK then checks against the
 * verified claims (a token altered to claim another scope fails its signature). v2 when the token
 * has neither, so the 403 challenge names the v2 scope.
 */
function scopeToRequire(request: Request, type: ResourceType, action: FhirAction): string {
  const { v2, v1 } = smartScopes(type, action);
  // Schemes are case-insensitive (RFC 9110 §11.1), as the SDK reads them.
  const [, token] = /^dpop ([\x21-\x7e]+)$/i.exec(request.headers.get('authorization') ?? '') ?? [];
  let scope: unknown;
  try { scope = token ? decodeJwt(token).scope : undefined; } catch { scope = undefined; }
  const scopes = typeof scope === 'string' ? scope.split(' ') : [];
  return !scopes.includes(v2) && scopes.includes(v1) ? v1 : v2;
}

/**
 * The `fhir_record_access` details that let the holder do `action` on records of `type` for the
 * patient whose FHIR id is `patientId`, as Sekisho grants them:
 * `{ type, resource_types, actions, locations?, patient: { id, label, ref } }`. `patient` is what
 * the person chose (on their phone, or on the consent screen): `id` is Sekisho's own (random) id of
 * the linked patient record and means nothing here; `ref` is the id the hospital gave when it
 * linked the record, this API's FHIR Patient id. A detail with `locations` counts only when one of
 * them is this API (RFC 9396 §2.2). `patientId` undefined: a detail for any patient (a read of a
 * record id the API does not hold, answered 404 only to a client that may read that type at all).
 */
export function detailsFor(details: AuthorizationDetail[], type: ResourceType, action: FhirAction, patientId: string | undefined, audience: string): AuthorizationDetail[] {
  return details.filter((d) => d.type === FHIR_RECORD_ACCESS
    && strings(d.resource_types).includes(type) && strings(d.actions).includes(action)
    && (d.locations === undefined || strings(d.locations).some((l) => sameResource(l, audience)))
    && isObject(d.patient) && typeof d.patient.ref === 'string' && d.patient.ref !== '' && (patientId === undefined || d.patient.ref === patientId));
}

/**
 * What the SDK checks for one request: the SMART scope for the type and interaction (which
 * interactions on which types the client was allowed), and a detail naming the patient, the type
 * and the action (which patient: the person's choice). Either alone is not enough: a scope names
 * no patient (Sekisho's tokens carry no SMART launch context), and the detail is what the person
 * chose on the consent screen or their phone.
 */
export function requirementFor(request: Request, type: ResourceType, action: FhirAction, patientId: string | undefined, audience: string): VerifyOptions {
  return {
    scopes: [scopeToRequire(request, type, action)],
    authorizationDetails: (details) => detailsFor(details, type, action, patientId, audience),
  };
}

/** Two resource identifiers compared as URLs, ignoring one trailing slash. */
function sameResource(a: string, b: string): boolean {
  const norm = (s: string) => (URL.canParse(s) ? new URL(s).href.replace(/\/$/, '') : s);
  return norm(a) === norm(b);
}
