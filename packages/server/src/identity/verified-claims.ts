/**
 * OpenID Connect for Identity Assurance 1.0: the `verified_claims` member of the `claims` request
 * parameter (section 6), and which `verified_claims` to release for it. Pure: no I/O, the clock is
 * a parameter; the caller supplies the account's verifications in force (identity-assurance.ts).
 *
 * Request (validateVerifiedClaimsRequest): an object, or an array of objects, each with
 * `verification` (must name `trust_framework`; may name `assurance_level`, `time`,
 * `verification_process`, `evidence` …) and `claims` (claim name → null or {essential, purpose,
 * value, values}). Each member is either null / a query object ({value, values, max_age,
 * essential, purpose}), or a template one level deeper (`evidence: [{type: {value: "document"},
 * document_details: {type: null}}]`). A malformed request throws VerifiedClaimsRequestError, which
 * the caller answers with `invalid_request`.
 *
 * Release (releaseVerifiedClaims), following "Returning less data than requested":
 * - only what was requested is returned: the requested claims, and in `verification` the requested
 *   elements (plus `trust_framework`, which a response must have);
 * - a claim the verification does not cover, the person did not consent to, or whose value fails
 *   the claim's `value`/`values`, is left out;
 * - a requirement inside `verification` that is not met (`trust_framework`/`assurance_level`
 *   `value`/`values`, `max_age` on `time`, an evidence filter nothing matches) leaves out the whole
 *   `verified_claims` element, never an error;
 * - an element with no claim left is left out; with nothing left at all, undefined.
 * Each request element is matched independently against the verifications in order (the first
 * that fulfils it is used), so an array can be answered by different verifications.
 * `essential` does not change any of this (section 6.6.1).
 */

export type Scalar = string | number | boolean;

/** What a request says about one element: OIDC Core 5.5.1 members plus `max_age`. */
export interface ElementQuery {
  essential?: boolean;
  purpose?: string;
  value?: Scalar;
  values?: Scalar[];
  /** Seconds that may have passed since the element's date or time. */
  max_age?: number;
}

type Template =
  | { kind: 'query'; query: ElementQuery }
  | { kind: 'object'; members: Array<[string, Template]> }
  | { kind: 'array'; items: Template[] };

export interface VerifiedClaimsRequestElement {
  verification: Template & { kind: 'object' };
  claims: Array<[name: string, query: ElementQuery]>;
}

/** A validated `verified_claims` request: one element, or several (`multiple`, an array). */
export interface VerifiedClaimsRequest {
  multiple: boolean;
  elements: VerifiedClaimsRequestElement[];
}

/** A malformed `verified_claims` request; answered with `invalid_request`. */
export class VerifiedClaimsRequestError extends Error {
  readonly error = 'invalid_request';
  /** Where in the request, e.g. `verified_claims[1].verification.evidence[0].type`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

/** A verification as the release rules need it (IdentityVerification has these members). */
export interface VerificationRecord {
  trustFramework: string;
  assuranceLevel?: string | null | undefined;
  verificationProcess?: string | null | undefined;
  verifiedAt: Date;
  evidence: ReadonlyArray<Readonly<Record<string, unknown>>>;
  verifiedClaims: Readonly<Record<string, unknown>>;
}

export interface ReleaseOptions {
  now?: Date;
  /** Claim names the person agreed to release; when given, other claims are left out. */
  consented?: Iterable<string> | undefined;
}

export interface VerifiedClaimsObject {
  verification: Record<string, unknown>;
  claims: Record<string, unknown>;
}

const LIMITS = { elements: 10, claims: 50, members: 30, arrayItems: 10, depth: 6, values: 50, string: 1000, json: 16_384 };
const QUERY_MEMBERS = new Set(['essential', 'purpose', 'value', 'values', 'max_age']);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*(#[A-Za-z0-9-]{1,40})?$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

function parseQuery(value: unknown, path: string): ElementQuery {
  if (value === null) return {};
  if (!isObject(value)) throw new VerifiedClaimsRequestError(path, 'must be null or an object');
  const q: ElementQuery = {};
  // Members not understood are ignored (OIDC Core 5.5.1), and not kept.
  if (value.essential !== undefined) {
    if (typeof value.essential !== 'boolean') throw new VerifiedClaimsRequestError(`${path}.essential`, 'must be a boolean');
    q.essential = value.essential;
  }
  if (value.purpose !== undefined) {
    if (typeof value.purpose !== 'string' || value.purpose.length < 3 || value.purpose.length > 300) {
      throw new VerifiedClaimsRequestError(`${path}.purpose`, 'must be a string of 3 to 300 characters');
    }
    q.purpose = value.purpose;
  }
  if (value.value !== undefined) {
    if (!isScalar(value.value) || String(value.value).length > LIMITS.string) throw new VerifiedClaimsRequestError(`${path}.value`, 'must be a string, number or boolean');
    q.value = value.value;
  }
  if (value.values !== undefined) {
    const values = value.values;
    if (!Array.isArray(values) || values.length === 0 || values.length > LIMITS.values || !values.every((v) => isScalar(v) && String(v).length <= LIMITS.string)) {
      throw new VerifiedClaimsRequestError(`${path}.values`, `must be an array of 1 to ${LIMITS.values} strings, numbers or booleans`);
    }
    q.values = values as Scalar[];
  }
  if (q.value !== undefined && q.values !== undefined) throw new VerifiedClaimsRequestError(path, 'value and values together');
  if (value.max_age !== undefined) {
    if (typeof value.max_age !== 'number' || !Number.isSafeInteger(value.max_age) || value.max_age < 0) {
      throw new VerifiedClaimsRequestError(`${path}.max_age`, 'must be a whole number of seconds, 0 or more');
    }
    q.max_age = value.max_age;
  }
  return q;
}

function parseTemplate(value: unknown, path: string, depth: number): Template {
  if (depth > LIMITS.depth) throw new VerifiedClaimsRequestError(path, 'nested too deeply');
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > LIMITS.arrayItems) throw new VerifiedClaimsRequestError(path, `must have 1 to ${LIMITS.arrayItems} entries`);
    return {
      kind: 'array',
      items: value.map((item, i) => {
        if (!isObject(item)) throw new VerifiedClaimsRequestError(`${path}[${i}]`, 'must be an object');
        return parseTemplate(item, `${path}[${i}]`, depth + 1);
      }),
    };
  }
  // An object with a query member (or none at all) asks for the element itself; otherwise its
  // members name sub-elements to return (a template one level deeper).
  if (value === null || (isObject(value) && (Object.keys(value).length === 0 || Object.keys(value).some((k) => QUERY_MEMBERS.has(k))))) {
    return { kind: 'query', query: parseQuery(value, path) };
  }
  if (!isObject(value)) throw new VerifiedClaimsRequestError(path, 'must be null, an object or an array');
  const names = Object.keys(value);
  if (names.length > LIMITS.members) throw new VerifiedClaimsRequestError(path, `at most ${LIMITS.members} members`);
  return {
    kind: 'object',
    members: names.map((name) => {
      if (!NAME.test(name)) throw new VerifiedClaimsRequestError(path, `${JSON.stringify(name.slice(0, 60))} is not an element name`);
      return [name, parseTemplate(value[name], `${path}.${name}`, depth + 1)];
    }),
  };
}

function parseElement(value: unknown, path: string): VerifiedClaimsRequestElement {
  if (!isObject(value)) throw new VerifiedClaimsRequestError(path, 'must be an object with verification and claims');
  for (const key of Object.keys(value)) {
    if (key !== 'verification' && key !== 'claims') throw new VerifiedClaimsRequestError(path, `unknown member ${JSON.stringify(key.slice(0, 60))}`);
  }
  if (!isObject(value.verification)) throw new VerifiedClaimsRequestError(`${path}.verification`, 'is required and must be an object');
  if (!Object.hasOwn(value.verification, 'trust_framework')) throw new VerifiedClaimsRequestError(`${path}.verification`, 'must request trust_framework');
  const verification = parseTemplate(value.verification, `${path}.verification`, 1);
  if (verification.kind !== 'object') throw new VerifiedClaimsRequestError(`${path}.verification`, 'must name the elements it requests');
  const trustFramework = verification.members.find(([n]) => n === 'trust_framework')?.[1];
  if (trustFramework?.kind !== 'query') throw new VerifiedClaimsRequestError(`${path}.verification.trust_framework`, 'must be null or an object with value or values');
  const evidence = verification.members.find(([n]) => n === 'evidence')?.[1];
  if (evidence) checkEvidence(evidence, `${path}.verification.evidence`);

  const claims = value.claims;
  if (!isObject(claims)) throw new VerifiedClaimsRequestError(`${path}.claims`, 'is required and must be an object naming the claims');
  const names = Object.keys(claims);
  if (names.length === 0 || names.length > LIMITS.claims) throw new VerifiedClaimsRequestError(`${path}.claims`, `must name 1 to ${LIMITS.claims} claims`);
  return {
    verification,
    claims: names.map((name) => {
      if (!NAME.test(name)) throw new VerifiedClaimsRequestError(`${path}.claims`, `${JSON.stringify(name.slice(0, 60))} is not a claim name`);
      // A claim is requested as a whole: sub-claims cannot be asked for (section 6.1).
      return [name, parseQuery(claims[name], `${path}.claims.${name}`)];
    }),
  };
}

/** Each evidence entry is a filter on its type: `type` with a `value`, never `values` (section 6.2). */
function checkEvidence(evidence: Template, path: string): void {
  if (evidence.kind !== 'array') throw new VerifiedClaimsRequestError(path, 'must be an array of evidence filters');
  evidence.items.forEach((item, i) => {
    const type = item.kind === 'object' ? item.members.find(([n]) => n === 'type')?.[1] : undefined;
    if (type?.kind !== 'query' || typeof type.query.value !== 'string' || type.query.values !== undefined) {
      throw new VerifiedClaimsRequestError(`${path}[${i}].type`, 'must be {"value": "<evidence type>"}');
    }
  });
}

/** Validates the `verified_claims` member of a `claims` request (an object or an array of them). */
export function validateVerifiedClaimsRequest(value: unknown): VerifiedClaimsRequest {
  let size: number;
  try { size = JSON.stringify(value)?.length ?? 0; } catch { throw new VerifiedClaimsRequestError('verified_claims', 'is not JSON'); }
  if (size > LIMITS.json) throw new VerifiedClaimsRequestError('verified_claims', `larger than ${LIMITS.json} bytes`);
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > LIMITS.elements) throw new VerifiedClaimsRequestError('verified_claims', `must have 1 to ${LIMITS.elements} entries`);
    return { multiple: true, elements: value.map((v, i) => parseElement(v, `verified_claims[${i}]`)) };
  }
  return { multiple: false, elements: [parseElement(value, 'verified_claims')] };
}

/**
 * The `verified_claims` requests in a `claims` request parameter (a JSON string or the parsed
 * object), validated: for checking at the authorization (or PAR, CIBA) request.
 */
export function verifiedClaimsRequestsIn(claimsParameter: unknown): { userinfo?: VerifiedClaimsRequest; id_token?: VerifiedClaimsRequest } {
  let claims = claimsParameter;
  if (typeof claims === 'string') {
    try { claims = JSON.parse(claims); } catch { throw new VerifiedClaimsRequestError('claims', 'is not JSON'); }
  }
  const out: { userinfo?: VerifiedClaimsRequest; id_token?: VerifiedClaimsRequest } = {};
  if (!isObject(claims)) return out;
  for (const member of ['userinfo', 'id_token'] as const) {
    const target = claims[member];
    if (isObject(target) && target.verified_claims !== undefined) {
      try {
        out[member] = validateVerifiedClaimsRequest(target.verified_claims);
      } catch (err) {
        if (err instanceof VerifiedClaimsRequestError) throw new VerifiedClaimsRequestError(`${member}.${err.path}`, err.message.slice(err.path.length + 2));
        throw err;
      }
    }
  }
  return out;
}

/** What a consent screen shows: each requested verified claim once, with the client's purpose. */
export function requestedVerifiedClaims(request: VerifiedClaimsRequest): Array<{ claim: string; essential: boolean; purpose?: string }> {
  const byName = new Map<string, { claim: string; essential: boolean; purpose?: string }>();
  for (const element of request.elements) {
    for (const [claim, query] of element.claims) {
      const seen = byName.get(claim) ?? { claim, essential: false };
      seen.essential ||= query.essential === true;
      if (seen.purpose === undefined && query.purpose !== undefined) seen.purpose = query.purpose;
      byName.set(claim, seen);
    }
  }
  return [...byName.values()];
}

type Projection = { ok: false } | { ok: true; value: unknown };
const FAIL: Projection = { ok: false };
const NOTHING: Projection = { ok: true, value: undefined };

const isConstrained = (t: Template): boolean =>
  t.kind === 'query' ? t.query.value !== undefined || t.query.values !== undefined || t.query.max_age !== undefined
    : t.kind === 'object' ? t.members.some(([, m]) => isConstrained(m))
      : t.items.some(isConstrained);

/** When a date or time value was, for max_age: a date counts from its last second (section 6.3.2). */
function instantOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const start = Date.parse(`${value}T00:00:00Z`);
    return Number.isNaN(start) ? undefined : start + 86_400_000 - 1000;
  }
  const t = Date.parse(value);
  return /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(t) ? t : undefined;
}

function meets(query: ElementQuery, actual: unknown, now: number): boolean {
  if (query.value !== undefined && actual !== query.value) return false;
  if (query.values !== undefined && !(isScalar(actual) && query.values.includes(actual))) return false;
  if (query.max_age !== undefined) {
    const t = instantOf(actual);
    if (t === undefined || now - t > query.max_age * 1000) return false;
  }
  return true;
}

/**
 * What of `actual` a template asks for: the requested members only, or FAIL when a constraint is
 * not met (an absent element fails a constraint on it; unconstrained, it is simply left out).
 */
function project(t: Template, actual: unknown, now: number): Projection {
  if (actual === undefined || actual === null) return isConstrained(t) ? FAIL : NOTHING;
  if (t.kind === 'query') return meets(t.query, actual, now) ? { ok: true, value: actual } : FAIL;
  if (t.kind === 'object') {
    if (!isObject(actual)) return isConstrained(t) ? FAIL : NOTHING;
    const out: Record<string, unknown> = {};
    for (const [name, member] of t.members) {
      const p = project(member, Object.hasOwn(actual, name) ? actual[name] : undefined, now);
      if (!p.ok) return FAIL;
      if (p.value !== undefined) out[name] = p.value;
    }
    return Object.keys(out).length ? { ok: true, value: out } : NOTHING;
  }
  if (!Array.isArray(actual)) return isConstrained(t) ? FAIL : NOTHING;
  // Entries are filters joined by OR, and templates for what each matching entry returns.
  const out: unknown[] = [];
  for (const entry of actual) {
    for (const item of t.items) {
      const p = project(item, entry, now);
      if (p.ok && p.value !== undefined) { out.push(p.value); break; }
    }
  }
  if (out.length) return { ok: true, value: out };
  return isConstrained(t) ? FAIL : NOTHING;
}

const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function verificationOf(record: VerificationRecord): Record<string, unknown> {
  return {
    trust_framework: record.trustFramework,
    ...(record.assuranceLevel ? { assurance_level: record.assuranceLevel } : {}),
    // UTC, so the time does not tell where the person was (section 11, privacy).
    time: isoSeconds(record.verifiedAt),
    ...(record.verificationProcess ? { verification_process: record.verificationProcess } : {}),
    ...(record.evidence.length ? { evidence: record.evidence } : {}),
  };
}

function releaseElement(element: VerifiedClaimsRequestElement, record: VerificationRecord, consented: ReadonlySet<string> | undefined, now: number): VerifiedClaimsObject | undefined {
  const verification = project(element.verification, verificationOf(record), now);
  if (!verification.ok) return undefined;
  const claims: Record<string, unknown> = {};
  for (const [name, query] of element.claims) {
    if (consented && !consented.has(name)) continue;
    const p = project({ kind: 'query', query }, Object.hasOwn(record.verifiedClaims, name) ? record.verifiedClaims[name] : undefined, now);
    if (p.ok && p.value !== undefined) claims[name] = p.value;
  }
  if (Object.keys(claims).length === 0) return undefined;
  return { verification: { ...(verification.value as Record<string, unknown>), trust_framework: record.trustFramework }, claims };
}

/**
 * The `verified_claims` to put in the ID token or UserInfo response for a request element (as
 * found in the `claims` parameter, validated again here), from the account's verifications in
 * force, strongest first. Undefined when nothing can be released. Throws
 * VerifiedClaimsRequestError for a malformed request.
 */
export function releaseVerifiedClaims(
  request: unknown,
  verifications: VerificationRecord | readonly VerificationRecord[] | undefined,
  options: ReleaseOptions = {},
): VerifiedClaimsObject | VerifiedClaimsObject[] | undefined {
  const parsed = validateVerifiedClaimsRequest(request);
  const candidates: readonly VerificationRecord[] = verifications === undefined ? [] : Array.isArray(verifications) ? verifications : [verifications as VerificationRecord];
  const now = (options.now ?? new Date()).getTime();
  const consented = options.consented === undefined ? undefined : new Set(options.consented);
  const released: VerifiedClaimsObject[] = [];
  for (const element of parsed.elements) {
    for (const record of candidates) {
      const out = releaseElement(element, record, consented, now);
      if (out) { released.push(out); break; }
    }
  }
  if (released.length === 0) return undefined;
  // A copy: nothing in the response aliases the stored record.
  return structuredClone(parsed.multiple ? released : released[0]);
}

/** How a grant remembers which verified claims the person allowed: one pseudo-claim per name. */
export const CONSENTED_PREFIX = 'verified_claims.';

/** The verified claim names a grant's claims list says the person allowed. */
export function consentedVerifiedClaims(grantClaims: readonly string[] | undefined): string[] {
  return (grantClaims ?? []).filter((c) => c.startsWith(CONSENTED_PREFIX)).map((c) => c.slice(CONSENTED_PREFIX.length));
}

/**
 * The verified claims a `claims` parameter asks for (ID token and UserInfo), once each, with the
 * client's purpose where it gave one: for the consent screen and the consent check. Malformed: none
 * (it was refused at the request already).
 */
export function verifiedClaimsAskedFor(claimsParameter: unknown): Array<{ claim: string; purpose?: string | undefined }> {
  let requests;
  try { requests = verifiedClaimsRequestsIn(claimsParameter); } catch { return []; }
  const byName = new Map<string, { claim: string; purpose?: string | undefined }>();
  for (const request of [requests.id_token, requests.userinfo]) {
    for (const item of request ? requestedVerifiedClaims(request) : []) {
      if (!byName.has(item.claim) || (item.purpose && !byName.get(item.claim)!.purpose)) byName.set(item.claim, { claim: item.claim, purpose: item.purpose });
    }
  }
  return [...byName.values()];
}
