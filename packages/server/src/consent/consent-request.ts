import type { Catalogue } from './catalogue.ts';
import type { ConsentScope } from './ledger.ts';
import type { NoticeContent } from './notices.ts';
import type { AuthorizationDetailType, ChoiceGroup, LinkedResourceList } from './authorization-details/types.ts';
import { CONSENTED_PREFIX } from '../identity/verified-claims.ts';

/**
 * What one consent screen asks, worked out once from the authorization request and the grant it
 * works on: the screen renders it, the ledger hashes it, and the decision is read against it, so
 * nothing can be granted that the person was not shown.
 */
export interface ConsentRequest {
  clientId: string;
  clientName: string;
  username: string;
  /** create: a new grant; merge: added to an existing one; replace: the grant becomes this; reconsent: a new notice for what it holds. */
  action: 'create' | 'merge' | 'replace' | 'reconsent';
  notice?: { version: number; content: NoticeContent } | undefined;
  /** The existing grant was given under an earlier version of the client's notice. */
  noticeChanged: boolean;
  /** Granted with any decision to allow: `openid` (signing in itself) when asked. */
  signIn: boolean;
  items: ConsentItem[];
  details: DetailItem[];
  /** What the grant already allows and keeps (merge, reconsent). */
  kept: ConsentScope;
  /** What a replace removes from the grant. */
  removed: ConsentScope;
  duration: DurationChoice;
}

/** One scope, claim or API scope asked for. Optional or sensitive items have their own tick box, never pre-ticked. */
export interface ConsentItem {
  key: string;
  kind: 'scope' | 'claim' | 'verified' | 'resource';
  name: string;
  resource?: string | undefined;
  /** Has a tick box: optional in the client's notice, or sensitive. Unticked means not granted. */
  choice: boolean;
  optional: boolean;
  sensitive: boolean;
  /** The notice's purposes this item serves (ids). */
  purposes: string[];
  /** A verified claim's purpose as the client stated it in the request. */
  statedPurpose?: string | undefined;
}

export interface DetailItem {
  index: number;
  type: string;
  detail: Record<string, unknown>;
  groups: ChoiceGroup[];
  oneTime: boolean;
  /** Optional in the notice: a tick box to include it. */
  optional: boolean;
  /** The notice's purposes this detail serves (ids). */
  purposes: string[];
}

export interface DurationChoice {
  /** Only once is possible (a payment, or a one-time detail in the request). */
  onceOnly: boolean;
  /** The request asked for ongoing access (offline_access) or the grant is kept for later sign-ins. */
  ongoingOffered: boolean;
  /** An existing grant keeps its duration (merge, replace, reconsent). */
  fixed?: 'once' | 'ongoing' | undefined;
  /** Ongoing access may last at most this many days; the person may choose fewer. */
  maxDays: number;
  choices: number[];
}

const NON_CONSENT_CLAIMS = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss', 'verified_claims']);
const EXPIRY_PRESETS = [365, 180, 90, 30, 7, 1];

export interface PromptDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
  rar?: unknown[];
}

/** Builds what the screen asks. `existing` is the grant's current parts (merge, replace, reconsent). */
export async function buildConsentRequest(input: {
  clientId: string; clientName: string; username: string;
  action: ConsentRequest['action'];
  prompt: PromptDetails;
  verifiedClaims: Array<{ claim: string; purpose?: string | undefined }>;
  existing: ConsentScope | undefined;
  notice: { version: number; content: NoticeContent } | undefined;
  catalogue: Catalogue;
  detailType: (type: string) => AuthorizationDetailType | undefined;
  linked: LinkedResourceList;
  maxGrantDays: number;
  existingDuration?: 'once' | 'ongoing' | undefined;
  /** The notice version the existing grant was given under (null: none). */
  existingNoticeVersion?: number | null | undefined;
  /** A backchannel (CIBA) request: allowed once, unless it asks for ongoing access. */
  onceUnlessOffline?: boolean | undefined;
}): Promise<ConsentRequest> {
  const { prompt, catalogue, notice } = input;
  const data = new Map((notice?.content.data ?? []).map((d) => [d.item, d]));
  const item = (kind: ConsentItem['kind'], name: string, sensitive: boolean, resource?: string, statedPurpose?: string): ConsentItem => {
    const declared = data.get(kind === 'claim' || kind === 'verified' ? `claim:${name}` : `scope:${name}`);
    const optional = declared?.optional ?? false;
    return {
      key: kind === 'resource' ? `resource:${resource} ${name}` : `${kind}:${name}`, kind, name, resource,
      choice: optional || sensitive, optional, sensitive, purposes: declared?.purposes ?? [], statedPurpose,
    };
  };
  const items: ConsentItem[] = [];
  for (const s of prompt.missingOIDCScope ?? []) {
    // openid is signing in itself. offline_access is the duration question on a new grant; added
    // to an existing one it is an item of its own, never granted in passing.
    if (s === 'openid' || (s === 'offline_access' && input.action === 'create')) continue;
    items.push(item('scope', s, s === 'offline_access' || catalogue.scope(s).sensitive));
  }
  for (const c of prompt.missingOIDCClaims ?? []) {
    if (!NON_CONSENT_CLAIMS.has(c)) items.push(item('claim', c, catalogue.claim(c).sensitive));
  }
  for (const v of input.verifiedClaims) items.push(item('verified', v.claim, true, undefined, v.purpose));
  for (const [resource, scopes] of Object.entries(prompt.missingResourceScopes ?? {})) {
    for (const s of scopes) items.push(item('resource', s, catalogue.scope(s).sensitive, resource));
  }

  const details: DetailItem[] = [];
  for (const [index, raw] of (prompt.rar ?? []).entries()) {
    const detail = raw as Record<string, unknown>;
    const type = input.detailType(String(detail.type));
    // The provider validated every detail before this screen; an unknown type cannot get here.
    if (!type) throw new Error(`authorization details type ${String(detail.type)} has no definition`);
    details.push({
      index, type: type.type, detail, groups: await type.choices(detail, input.linked), oneTime: type.oneTime,
      optional: data.get(`authorization_details:${type.type}`)?.optional ?? false,
      purposes: data.get(`authorization_details:${type.type}`)?.purposes ?? [],
    });
  }

  const oneTimeDetails = details.some((d) => d.oneTime);
  // One-time details only ever start a new grant (the provider refuses them in a merge or replace).
  if (oneTimeDetails && input.action !== 'create') throw new Error('one-time authorization details in an existing grant');
  const asksOffline = input.action === 'create' && (prompt.missingOIDCScope ?? []).includes('offline_access');
  const onceOnly = oneTimeDetails || (input.onceUnlessOffline === true && input.action === 'create' && !asksOffline);
  const empty: ConsentScope = { scopes: [], claims: [], resources: {}, authorizationDetails: [] };
  return {
    clientId: input.clientId, clientName: input.clientName, username: input.username, action: input.action,
    notice: notice ? { version: notice.version, content: notice.content } : undefined,
    noticeChanged: input.action !== 'create' && notice !== undefined && input.existingNoticeVersion !== undefined && input.existingNoticeVersion !== notice.version,
    signIn: (prompt.missingOIDCScope ?? []).includes('openid'), items, details,
    kept: input.action === 'merge' || input.action === 'reconsent' ? input.existing ?? empty : empty,
    removed: input.action === 'replace' && input.existing ? removedBy(input.existing, items, details) : empty,
    duration: {
      onceOnly, ongoingOffered: !onceOnly && asksOffline,
      // An existing grant keeps its duration (one from before consent_grants counts as ongoing).
      fixed: input.action === 'create' ? undefined : input.existingDuration ?? 'ongoing',
      maxDays: input.maxGrantDays,
      choices: [input.maxGrantDays, ...EXPIRY_PRESETS.filter((d) => d < input.maxGrantDays)],
    },
  };
}

/** The existing grant's parts a replace leaves out. */
function removedBy(existing: ConsentScope, items: ConsentItem[], details: DetailItem[]): ConsentScope {
  const asked = new Set(items.map((i) => i.key));
  return {
    scopes: existing.scopes.filter((s) => s !== 'openid' && s !== 'offline_access' && !asked.has(`scope:${s}`)),
    claims: existing.claims.filter((c) => !asked.has(c.startsWith(CONSENTED_PREFIX) ? `verified:${c.slice(CONSENTED_PREFIX.length)}` : `claim:${c}`) && c !== 'verified_claims'),
    resources: Object.fromEntries(Object.entries(existing.resources)
      .map(([r, list]) => [r, list.filter((s) => !asked.has(`resource:${r} ${s}`))] as const).filter(([, list]) => list.length)),
    authorizationDetails: existing.authorizationDetails.filter((d) => !details.some((asked) => JSON.stringify(asked.detail) === JSON.stringify(d))),
  };
}

/** What the person decided, read from the posted form against what the screen asked. */
export interface ConsentDecision {
  granted: ConsentItem[];
  declined: ConsentItem[];
  /** The granted details, enriched with the person's choices. */
  details: Array<Record<string, unknown>>;
  declinedDetails: Array<Record<string, unknown>>;
  duration: 'once' | 'ongoing';
  /** Days of ongoing access chosen; undefined for once. */
  days: number | undefined;
}

export type DecisionProblem = 'consent.choose_duration' | 'consent.choose_options';

/**
 * Reads the decision. Only keys the screen offered count; a forged key, an id that was not
 * offered, or a missing required choice is a problem (the screen is shown again), never a grant.
 */
export function readDecision(request: ConsentRequest, form: URLSearchParams, detailType: (type: string) => AuthorizationDetailType | undefined): ConsentDecision | DecisionProblem {
  const ticked = new Set(form.getAll('item'));
  const granted = request.items.filter((i) => !i.choice || ticked.has(i.key));
  const declined = request.items.filter((i) => i.choice && !ticked.has(i.key));

  const details: Array<Record<string, unknown>> = [];
  const declinedDetails: Array<Record<string, unknown>> = [];
  for (const d of request.details) {
    if (d.optional && (form.getAll(`ad.${d.index}.include`).length !== 1 || form.get(`ad.${d.index}.include`) !== 'yes')) { declinedDetails.push(d.detail); continue; }
    const selected = Object.fromEntries(d.groups.map((g) => [g.name, form.getAll(`ad.${d.index}.${g.name}`)]));
    const enriched = detailType(d.type)?.grant(d.detail, selected, d.groups);
    if (!enriched) return 'consent.choose_options';
    details.push(enriched);
  }

  let duration: 'once' | 'ongoing';
  let days: number | undefined;
  const { duration: offer } = request;
  if (offer.fixed) duration = offer.fixed;
  else if (offer.onceOnly) duration = 'once';
  else {
    const chosen = form.get('duration');
    if (form.getAll('duration').length !== 1 || (chosen !== 'once' && chosen !== 'ongoing')) return 'consent.choose_duration';
    duration = chosen;
  }
  if (duration === 'ongoing' && !offer.fixed) {
    // Only a length the screen offered: anything else (a forged value) is asked again, never stretched.
    const asked = Number(form.get('expires_days'));
    if (form.getAll('expires_days').length !== 1 || !offer.choices.includes(asked)) return 'consent.choose_duration';
    days = asked;
  }
  return { granted, declined, details, declinedDetails, duration, days };
}

/** The decision's grant parts, in the ledger's terms. */
export function grantedParts(request: ConsentRequest, decision: ConsentDecision): ConsentScope {
  return partsOf(request.signIn, decision.granted, decision.details, decision.duration === 'ongoing' && request.duration.ongoingOffered);
}

/** Everything the screen asked, in the ledger's terms. */
export function requestedParts(request: ConsentRequest): ConsentScope {
  return partsOf(request.signIn, request.items, request.details.map((d) => d.detail), request.duration.ongoingOffered);
}

function partsOf(signIn: boolean, items: ConsentItem[], details: Array<Record<string, unknown>>, offline: boolean): ConsentScope {
  const resources: Record<string, string[]> = {};
  for (const i of items) if (i.kind === 'resource') (resources[i.resource!] ??= []).push(i.name);
  return {
    scopes: [...(signIn ? ['openid'] : []), ...items.filter((i) => i.kind === 'scope').map((i) => i.name), ...(offline ? ['offline_access'] : [])],
    claims: [...items.filter((i) => i.kind === 'claim').map((i) => i.name), ...items.filter((i) => i.kind === 'verified').map((i) => `${CONSENTED_PREFIX}${i.name}`)],
    resources,
    authorizationDetails: details,
  };
}
