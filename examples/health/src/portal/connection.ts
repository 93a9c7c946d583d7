import type { AuthorizationDetails } from 'oauth4webapi';
import { RECORD_TYPES, WRITABLE_TYPES, type ResourceType } from '../fhir.ts';
import { FHIR_RECORD_ACCESS, smartScopes } from '../health-api/record-access.ts';
import { HEALTH_SCOPES } from '../registration.ts';

const READABLE: ResourceType[] = ['Patient', ...RECORD_TYPES];

/**
 * What the portal asks Sekisho for: the SMART scopes (which interactions on which types) and two
 * `fhir_record_access` details (for which patient, chosen by the person on the consent screen):
 * one to read and search every type, one to add the two types a patient adds to. Two details and
 * not one with every action, so the consent screen does not say "Add" next to medicines.
 * `offline_access` with `prompt=consent`: a refresh token, if the person chooses ongoing access.
 */
export function authorizationParameters(): Record<string, string> {
  return {
    scope: ['openid', 'offline_access', ...HEALTH_SCOPES.read, ...HEALTH_SCOPES.create].join(' '),
    prompt: 'consent',
    authorization_details: JSON.stringify([
      { type: FHIR_RECORD_ACCESS, resource_types: READABLE, actions: ['read', 'search'] },
      { type: FHIR_RECORD_ACCESS, resource_types: [...WRITABLE_TYPES], actions: ['create'] },
    ]),
  };
}

export interface Granted {
  patient: { ref: string; label: string };
  canRead: ResourceType[];
  canAdd: Array<(typeof WRITABLE_TYPES)[number]>;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/**
 * What the person allowed, from the token response: the patient their details name (`patient.ref`,
 * the FHIR id; every detail must name the same one), and each type the portal may read or add to,
 * which needs both the scope and a detail (the health API checks both).
 */
export function grantedAccess(details: AuthorizationDetails[], scopes: readonly string[]): Granted | 'no_patient' | 'two_patients' {
  const ours = details.filter((d) => d.type === FHIR_RECORD_ACCESS);
  const patients = new Map<string, string>();
  for (const d of ours) {
    const p = d.patient as { ref?: unknown; label?: unknown } | undefined;
    if (typeof p?.ref === 'string' && p.ref) patients.set(p.ref, typeof p.label === 'string' ? p.label : p.ref);
  }
  if (patients.size === 0) return 'no_patient';
  if (patients.size > 1) return 'two_patients';
  const [ref, label] = [...patients][0]!;
  const allows = (type: ResourceType, action: string) => ours.some((d) => strings(d.resource_types).includes(type) && strings(d.actions).includes(action));
  return {
    patient: { ref, label },
    canRead: READABLE.filter((t) => scopes.includes(smartScopes(t, 'read').v2) && allows(t, t === 'Patient' ? 'read' : 'search')),
    canAdd: WRITABLE_TYPES.filter((t) => scopes.includes(smartScopes(t, 'create').v2) && allows(t, 'create')),
  };
}
