import { z } from 'zod';
import { SCOPE_CLAIMS } from '../protocol/claims-catalogue.ts';

// RFC 6749 §3.3 scope-token characters; RFC 9396 types are strings, held here to printable ASCII.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/;
const DETAIL_TYPE = /^[\x21-\x7e]{1,100}$/;

const distinct = (field: string) => (list: string[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  list.forEach((value, i) => {
    if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [i], message: `${field} lists ${value} twice` });
    seen.add(value);
  });
};

/**
 * What a delegate may allow on the principal's behalf, set by the operator who registered the
 * delegation. Strict: an unknown member is refused, so no one can believe a rule is enforced that
 * is not. An absent list allows nothing of its kind; `openid` (signing in for the principal) is
 * always allowed.
 */
export const DelegationConstraints = z.object({
  scopes: z.array(z.string().regex(SCOPE_TOKEN, 'must be a scope name (printable ASCII, no spaces, quotes or backslashes)'))
    .max(100).superRefine(distinct('scopes')).optional(),
  authorizationDetailTypes: z.array(z.string().regex(DETAIL_TYPE, 'must be an authorization_details type (printable ASCII, no spaces)'))
    .max(50).superRefine(distinct('authorizationDetailTypes')).optional(),
  excludeSensitive: z.boolean().optional(),
}).strict();
export type DelegationConstraints = z.infer<typeof DelegationConstraints>;

/** What an authorization request asks, as the consent step has worked it out. */
export interface DelegatedRequest {
  scopes: string[];
  /** API scopes (e.g. patient/Observation.read), checked against the allowed `scopes` as well. */
  resourceScopes: string[];
  /** Claims asked for by name (the claims parameter), beyond those the scopes release. */
  claims: string[];
  authorizationDetailTypes: string[];
}

/** Whether the catalogue counts an item as sensitive (health, money, identity documents). The caller knows. */
export type IsSensitive = (kind: 'scope' | 'claim' | 'authorization_details', name: string) => boolean;

export type DelegationCheck = { allowed: true } | { allowed: false; beyond: string[] };

// Claims about the sign-in itself, which come with openid and say nothing more about the person.
const SIGN_IN_CLAIMS: ReadonlySet<string> = new Set(['sub', 'sid', 'iss', 'acr', 'amr', 'auth_time']);

/** The claims a scope releases (OIDC Core 5.4); none for an API scope or verified_claims. */
function claimsOf(scope: string): readonly string[] {
  const claims = (SCOPE_CLAIMS as Record<string, readonly string[] | null | undefined>)[scope];
  return Array.isArray(claims) ? claims : [];
}

/**
 * The rule that a delegate never grants more than the delegation allows. Every item outside the
 * constraints is named (`scope:email`, `authorization_details:domestic_transfer`,
 * `claim:birthdate (sensitive)`) so the consent screen can say what the delegate cannot allow.
 *
 * A claim asked for by name is within the constraints when an allowed scope releases it (as
 * `profile` releases `birthdate`): claims have no list of their own. So a claim no scope releases,
 * such as a verified claim, is never within them. With `excludeSensitive`, an item the caller
 * counts as sensitive is outside them even when its list allows it.
 */
export function checkDelegatedRequest(constraints: DelegationConstraints, requested: DelegatedRequest, isSensitive: IsSensitive): DelegationCheck {
  const scopes = new Set(constraints.scopes ?? []);
  const types = new Set(constraints.authorizationDetailTypes ?? []);
  const released = new Set([...scopes].flatMap(claimsOf));
  const beyond: string[] = [];
  const judge = (kind: 'scope' | 'claim' | 'authorization_details', name: string, listed: boolean) => {
    const item = !listed ? `${kind}:${name}` : constraints.excludeSensitive && isSensitive(kind, name) ? `${kind}:${name} (sensitive)` : undefined;
    if (item && !beyond.includes(item)) beyond.push(item);
  };
  for (const scope of [...requested.scopes, ...requested.resourceScopes]) {
    if (scope !== 'openid') judge('scope', scope, scopes.has(scope));
  }
  for (const claim of requested.claims) {
    if (!SIGN_IN_CLAIMS.has(claim)) judge('claim', claim, released.has(claim));
  }
  for (const type of requested.authorizationDetailTypes) judge('authorization_details', type, types.has(type));
  return beyond.length ? { allowed: false, beyond } : { allowed: true };
}
