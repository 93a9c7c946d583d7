/**
 * Grant Management for OAuth 2.0 (OpenID draft -03/-04), the request side: which grant an
 * authorization request works on. `create` always starts a new grant; `merge` adds to the grant
 * named by `grant_id`; `replace` makes that grant exactly what the person now approves. Without
 * an action a request works as before: on the grant this browser already gave the client.
 */
export const GRANT_MANAGEMENT_ACTIONS = ['create', 'merge', 'replace'] as const;
export type GrantManagementAction = (typeof GRANT_MANAGEMENT_ACTIONS)[number];

export type GrantManagementRequest =
  | { action: undefined; grantId: undefined }
  | { action: 'create'; grantId: undefined }
  | { action: 'merge' | 'replace'; grantId: string };

export class GrantManagementRequestError extends Error {
  readonly error: 'invalid_request' | 'invalid_grant_id';
  constructor(error: 'invalid_request' | 'invalid_grant_id', description: string) {
    super(description);
    this.error = error;
  }
}

/** A grant id as Sekisho issues them: 43 base64url characters; anything else names no grant. */
const GRANT_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * The request's `grant_management_action` and `grant_id`, checked for the combinations the draft
 * allows (§ "Authorization request"): `grant_id` with `create` or without an action, an unknown
 * action, `merge`/`replace` without a `grant_id` are invalid_request; a malformed id names no grant.
 */
export function readGrantManagementRequest(params: { grant_management_action?: unknown; grant_id?: unknown }): GrantManagementRequest {
  const action = params.grant_management_action;
  const grantId = params.grant_id;
  if (action !== undefined && (typeof action !== 'string' || !(GRANT_MANAGEMENT_ACTIONS as readonly string[]).includes(action))) {
    throw new GrantManagementRequestError('invalid_request', 'unsupported grant_management_action');
  }
  if (grantId !== undefined && typeof grantId !== 'string') throw new GrantManagementRequestError('invalid_request', 'grant_id must be a string');
  if (action === undefined) {
    if (grantId !== undefined) throw new GrantManagementRequestError('invalid_request', 'grant_id requires grant_management_action merge or replace');
    return { action: undefined, grantId: undefined };
  }
  if (action === 'create') {
    if (grantId !== undefined) throw new GrantManagementRequestError('invalid_request', 'grant_id must not be used with grant_management_action=create');
    return { action, grantId: undefined };
  }
  if (grantId === undefined) throw new GrantManagementRequestError('invalid_request', `grant_management_action=${action} requires grant_id`);
  if (!GRANT_ID.test(grantId)) throw new GrantManagementRequestError('invalid_grant_id', 'unknown grant_id');
  return { action: action as 'merge' | 'replace', grantId };
}

/** Discovery metadata (draft § "Metadata"). */
export function grantManagementDiscovery(issuer: string, path: string) {
  return {
    grant_management_endpoint: `${issuer.replace(/\/$/, '')}${path}`,
    grant_management_actions_supported: [...GRANT_MANAGEMENT_ACTIONS],
    grant_management_action_required: false,
  };
}
