import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { CHECK_METHODS, VERIFIABLE_CLAIMS } from '../identity/identity-evidence.ts';
import { VerifiedClaimsRequestError, verifiedClaimsRequestsIn } from '../identity/verified-claims.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The `claims` request parameter's check (oidc-provider's `assertClaimsParameter`): the library's
 * own rule (members are null or objects) plus OpenID Connect for Identity Assurance's
 * `verified_claims`, validated in full so a malformed one is an invalid_request at PAR time, not
 * a silently empty answer later. `verified_claims` as an array (several verification requests)
 * is refused: oidc-provider releases only object-valued claim requests, and a client is better
 * told than given nothing.
 */
export async function assertClaimsRequest(_ctx: KoaContextWithOIDC, claims: Record<string, unknown>): Promise<void> {
  for (const container of ['userinfo', 'id_token'] as const) {
    const members = claims[container];
    if (members === undefined) continue;
    for (const [name, value] of Object.entries(members as Record<string, unknown>)) {
      if (name === 'verified_claims' && Array.isArray(value)) {
        throw new errors.InvalidRequest(`claims.${container}.verified_claims must be one object; several verification requests in an array are not supported`);
      }
      if (value !== null && !isObject(value)) throw new errors.InvalidRequest(`claims.${container} members must be null or objects`);
    }
  }
  try {
    verifiedClaimsRequestsIn(claims);
  } catch (err) {
    if (err instanceof VerifiedClaimsRequestError) throw new errors.InvalidRequest(`claims.${err.message}`);
    throw err;
  }
}

/** Discovery metadata of OpenID Connect for Identity Assurance: what Sekisho can release. */
export function identityAssuranceDiscovery(trustFrameworks: readonly string[]): Record<string, unknown> {
  return {
    verified_claims_supported: true,
    trust_frameworks_supported: [...trustFrameworks],
    evidence_supported: ['document', 'electronic_record', 'vouch', 'electronic_signature'],
    documents_check_methods_supported: Object.keys(CHECK_METHODS),
    claims_in_verified_claims_supported: [...VERIFIABLE_CLAIMS],
  };
}
