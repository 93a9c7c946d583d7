import type { AuthorizationDetailType } from './types.ts';
import { accountInformation, BANK_ACCOUNT } from './account-information.ts';
import { domesticTransfer } from './domestic-transfer.ts';
import { fhirRecordAccess, FHIR_PATIENT } from './fhir-record-access.ts';
import { createConfiguredType, type ConfiguredTypeConfig } from './configured-type.ts';

export type { ConfiguredTypeConfig };

/** The authorization_details types Sekisho ships (spec: consent.md, Rich Authorization Requests). */
export const BUILT_IN_AUTHORIZATION_DETAIL_TYPES: readonly AuthorizationDetailType[] = [accountInformation, domesticTransfer, fhirRecordAccess];

/** The kinds of linked resource the built-in types offer as choices (what `sekisho user link --kind` accepts). */
export const LINKED_RESOURCE_KINDS: readonly string[] = [BANK_ACCOUNT, FHIR_PATIENT];

/**
 * The one table of authorization_details types: the built-in ones and the deployment's own from
 * `consent.authorizationDetailTypes`. Throws at start-up when a configured type is invalid,
 * redefines a built-in type or is configured twice.
 */
export function createAuthorizationDetailTypes(configured: readonly ConfiguredTypeConfig[]) {
  const table = new Map<string, AuthorizationDetailType>(BUILT_IN_AUTHORIZATION_DETAIL_TYPES.map((t) => [t.type, t]));
  for (const config of configured) {
    const type = createConfiguredType(config);
    if (BUILT_IN_AUTHORIZATION_DETAIL_TYPES.some((t) => t.type === type.type)) {
      throw new Error(`consent.authorizationDetailTypes: ${type.type} is a built-in authorization_details type and cannot be redefined; give your type another name`);
    }
    if (table.has(type.type)) throw new Error(`consent.authorizationDetailTypes: ${type.type} is configured twice`);
    table.set(type.type, type);
  }
  const all = [...table.values()];
  return {
    /** The type of that name, or undefined (an unknown type: invalid_authorization_details). */
    get(type: string): AuthorizationDetailType | undefined {
      return typeof type === 'string' ? table.get(type) : undefined;
    },
    /** Every type, built-in first (for discovery's authorization_details_types_supported). */
    all(): AuthorizationDetailType[] {
      return [...all];
    },
  };
}
export type AuthorizationDetailTypes = ReturnType<typeof createAuthorizationDetailTypes>;
