import type { ConsentSubject } from '../ui/consent-steps.ts';
import type { PromptDetails } from '../consent/consent-request.ts';
import { SCOPE_CLAIMS } from '../protocol/claims-catalogue.ts';

/** A saved backchannel request as oidc-provider keeps it (the parts consent needs). */
export interface StoredBackchannelRequest {
  jti: string;
  accountId: string;
  clientId: string;
  scope?: string | undefined;
  resource?: string | string[] | undefined;
  claims?: { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> } | undefined;
  params?: Record<string, unknown> | undefined;
}

/** What a grant already holds, for a merge (only what is new is asked). */
export interface HeldGrant { scopes: Set<string>; claims: Set<string>; resources: Record<string, Set<string>> }

const NOT_CONSENTED = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

/**
 * The consent screen's subject for a backchannel request: what it asks, worked out as the
 * library's consent prompt works it out for a browser (OIDC scopes, the claims they and the claims
 * parameter bring, API scopes per resource indicator, authorization details). The person (or
 * their delegate) decides on their device; there is no interaction, so the request is the uid.
 */
export function cibaConsentSubject(input: {
  request: StoredBackchannelRequest;
  uid: string;
  /** The scopes an API (resource indicator) defines. */
  apiScopes(resource: string): string[];
  held?: HeldGrant | undefined;
  actor?: { accountId: string; delegationId: string } | undefined;
  acr?: string | undefined;
}): ConsentSubject {
  const { request, held } = input;
  const params: Record<string, unknown> = { ...(request.params ?? {}), client_id: request.clientId };
  const requested = String(request.scope ?? params.scope ?? '').split(' ').filter(Boolean);
  const oidcScopes = requested.filter((s) => s === 'openid' || s === 'offline_access' || Object.hasOwn(SCOPE_CLAIMS, s));
  const claims = new Set<string>();
  for (const s of oidcScopes) for (const c of (SCOPE_CLAIMS as unknown as Record<string, readonly string[] | null>)[s] ?? []) claims.add(c);
  for (const where of [request.claims?.id_token, request.claims?.userinfo]) for (const c of Object.keys(where ?? {})) claims.add(c);

  const resources = request.resource === undefined ? [] : Array.isArray(request.resource) ? request.resource : [request.resource];
  const missingResourceScopes: Record<string, string[]> = {};
  for (const resource of resources) {
    const defined = new Set(input.apiScopes(resource));
    const asked = requested.filter((s) => defined.has(s) && !held?.resources[resource]?.has(s));
    if (asked.length) missingResourceScopes[resource] = asked;
  }
  const details = typeof params.authorization_details === 'string' ? JSON.parse(params.authorization_details) as unknown[] : undefined;
  const prompt: PromptDetails = {
    missingOIDCScope: oidcScopes.filter((s) => !held?.scopes.has(s)),
    missingOIDCClaims: [...claims].filter((c) => !NOT_CONSENTED.has(c) && !held?.claims.has(c)),
    missingResourceScopes,
    ...(details?.length ? { rar: details } : {}),
  };
  const grantId = typeof params.grant_id === 'string' ? params.grant_id : undefined;
  return {
    uid: input.uid, accountId: request.accountId, acr: input.acr, grantId, params,
    prompt: { details: prompt, reasons: [] }, channel: 'ciba', actor: input.actor,
    bindingMessage: typeof params.binding_message === 'string' ? params.binding_message : undefined,
    onceUnlessOffline: true,
  };
}
