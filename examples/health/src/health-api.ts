import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { JWTAccessTokenClaims } from 'oauth4webapi';
import { FHIR_ID, isRecordType, type Bundle, type HealthRecords, type RecordType, type Resource } from './fhir.ts';
import { createRecordStore } from './health-api/record-store.ts';
import { grantedPatientIds, type FhirAction } from './health-api/record-access.ts';
import { dpopChallenge, sendJson, sendProblem } from './health-api/responses.ts';
import { createTokenVerifier, type TokenVerifierOptions } from './health-api/token-verifier.ts';
import { checkUrl } from './shared/loopback.ts';

export interface HealthApiOptions extends TokenVerifierOptions {
  /** The patients and their records (e.g. SAMPLE_RECORDS). */
  data: HealthRecords;
  /**
   * The FHIR base URL as clients reach it, e.g. `https://health.example/fhir`: requests are served
   * under its path, and DPoP proofs must name URLs under it (`htu`). The Host header is never
   * trusted for this. Default: `audience`.
   */
  publicUrl?: string;
  /** One line per request; default: JSON on stdout. Never given a token. */
  log?: (line: AccessLogLine) => void;
}

export interface AccessLogLine {
  time: string;
  method: string;
  path: string;
  status: number;
  outcome: 'ok' | 'no_token' | 'invalid_token' | 'invalid_dpop_proof' | 'insufficient_scope' | 'bad_request' | 'not_found' | 'unavailable' | 'error';
  client_id?: string;
  sub?: string;
  /** RFC 8693 `act`: who acted for `sub` when the grant was given (a guardian for a patient). */
  act?: unknown;
  patient?: string;
  /** Why a token was refused (oauth4webapi's message, which never quotes the token). */
  reason?: string;
}

type Route =
  | { kind: 'read'; id: string }
  | { kind: 'record-search'; type: RecordType };

interface Outcome { status: number; outcome: AccessLogLine['outcome']; patient?: string; reason?: string }

/**
 * A FHIR-shaped, read-only health-record API that accepts only DPoP-bound JWT access tokens
 * (RFC 9068, RFC 9449) from one issuer, for one audience, carrying Sekisho's `fhir_record_access`
 * authorization details for the patient asked about (the detail's `patient.ref`, a FHIR id):
 *
 *   GET {base}/Patient/{id}          Patient             (resource_types Patient, actions read)
 *   GET {base}/{Type}?patient={id}   Bundle (searchset)  ({Type}, search)
 *
 * with {Type} one of AllergyIntolerance, MedicationStatement, Observation, Condition. Order of
 * checks: route (404/405), token (401, or 503 when the issuer's keys cannot be read), input (400),
 * authority (403), data (404). Every error is a problem+json body; bad input is never a 500.
 */
export function createHealthApi(options: HealthApiOptions): RequestListener {
  const base = checkUrl('publicUrl', options.publicUrl ?? options.audience);
  const basePath = base.pathname.replace(/\/$/, '');
  const publicBase = `${base.origin}${basePath}`;
  const store = createRecordStore(options.data);
  const verifier = createTokenVerifier(options);
  const log = options.log ?? ((line: AccessLogLine) => process.stdout.write(`${JSON.stringify(line)}\n`));

  function route(pathname: string): Route | undefined {
    if (!pathname.startsWith(`${basePath}/`)) return undefined;
    const parts = pathname.slice(basePath.length + 1).split('/');
    if (parts.length === 2 && parts[0] === 'Patient') return { kind: 'read', id: parts[1]! };
    // No Patient search: the grant names the patient by its FHIR id, so a client reads it.
    if (parts.length !== 1) return undefined;
    return isRecordType(parts[0]!) ? { kind: 'record-search', type: parts[0] } : undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, claimsOut: { claims?: JWTAccessTokenClaims }): Promise<Outcome> {
    const target = req.url ?? '';
    // Origin-form only: an absolute or `//host` target would let the request name another host.
    if (!target.startsWith('/') || target.startsWith('//')) return problem(res, 400, 'Bad request target');
    const url = new URL(target, base.origin);
    // `/\host/…` parses as another host (WHATWG URL); the proof's htu must be checked against ours.
    if (url.origin !== base.origin) return problem(res, 400, 'Bad request target');
    const found = route(url.pathname);
    if (!found) return problem(res, 404, 'Not found', 'No such FHIR endpoint here.', 'not_found');
    if (req.method !== 'GET') return problem(res, 405, 'Method not allowed', 'This API is read-only.', 'bad_request', { Allow: 'GET' });

    const authorizations = req.headersDistinct.authorization ?? [];
    const proofs = req.headersDistinct.dpop ?? [];
    if (authorizations.length === 0) {
      return problem(res, 401, 'Access token required', 'Send a DPoP-bound access token.', 'no_token', { 'WWW-Authenticate': dpopChallenge() });
    }
    if (authorizations.length > 1 || proofs.length > 1) {
      return problem(res, 401, 'Invalid token', 'Send one Authorization and one DPoP header.', 'invalid_token', { 'WWW-Authenticate': dpopChallenge('invalid_token', 'one Authorization and one DPoP header') });
    }
    const headers = new Headers({ authorization: authorizations[0]! });
    if (proofs[0] !== undefined) headers.set('dpop', proofs[0]);
    const verified = await verifier.verify(new Request(url, { method: 'GET', headers }));
    if (!verified.ok && verified.status === 503) {
      const o = problem(res, 503, 'Service unavailable', 'The token issuer could not be reached; try again.', 'unavailable', { 'Retry-After': '5' });
      return { ...o, reason: verified.reason };
    }
    if (!verified.ok) {
      const error = verified.error ?? 'invalid_token';
      const description = error === 'invalid_dpop_proof' ? 'the DPoP proof is not valid or was used before' : 'the access token or its DPoP proof is not valid';
      const o = problem(res, 401, 'Invalid token', `${description}.`, error, { 'WWW-Authenticate': dpopChallenge(error, description) });
      return { ...o, reason: verified.reason };
    }
    const claims = verified.claims;
    claimsOut.claims = claims;

    const forbidden = (patient?: string): Outcome => problem(res, 403, 'Forbidden', 'The token does not allow this record type for this patient.', 'insufficient_scope',
      { 'WWW-Authenticate': dpopChallenge('insufficient_scope', 'fhir_record_access does not cover this patient and record type') }, patient);
    const allowedFhirIds = (type: 'Patient' | RecordType, action: FhirAction) => new Set(grantedPatientIds(claims, type, action, options.audience));

    if (found.kind === 'read') {
      const id = decoded(found.id);
      if (id === undefined || !FHIR_ID.test(id)) return problem(res, 400, 'Bad patient id', 'A FHIR id is 1 to 64 of A-Z a-z 0-9 - and .', 'bad_request');
      if (url.search) return problem(res, 400, 'Bad request', 'A read takes no query parameters.', 'bad_request');
      if (!allowedFhirIds('Patient', 'read').has(id)) return forbidden(id);
      const patient = store.patient(id);
      if (!patient) return problem(res, 404, 'Unknown patient', 'There is no such patient here.', 'not_found', {}, id);
      sendJson(res, 200, patient);
      return { status: 200, outcome: 'ok', patient: id };
    }

    const raw = single(url.searchParams, 'patient');
    if (raw === undefined) return problem(res, 400, 'Bad search', `Search ${found.type} by exactly one patient parameter and nothing else.`, 'bad_request');
    const id = raw.startsWith('Patient/') ? raw.slice('Patient/'.length) : raw;
    if (!FHIR_ID.test(id)) return problem(res, 400, 'Bad patient id', 'A FHIR id is 1 to 64 of A-Z a-z 0-9 - and .', 'bad_request');
    if (!allowedFhirIds(found.type, 'search').has(id)) return forbidden(id);
    const records = store.search(found.type, id);
    if (!records) return problem(res, 404, 'Unknown patient', 'There is no such patient here.', 'not_found', {}, id);
    sendJson(res, 200, bundle(`${publicBase}/${found.type}?patient=${encodeURIComponent(id)}`, records));
    return { status: 200, outcome: 'ok', patient: id };
  }

  function bundle(self: string, resources: Resource[]): Bundle {
    return {
      resourceType: 'Bundle', type: 'searchset', total: resources.length, link: [{ relation: 'self', url: self }],
      entry: resources.map((resource) => ({ fullUrl: `${publicBase}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' } })),
    };
  }

  return (req, res) => {
    const claimsOut: { claims?: JWTAccessTokenClaims } = {};
    const done = (o: Outcome) => {
      const c = claimsOut.claims;
      log({
        time: new Date().toISOString(), method: req.method ?? '', path: (req.url ?? '').slice(0, 500), status: o.status, outcome: o.outcome,
        ...(c ? { client_id: c.client_id, sub: c.sub } : {}),
        ...(c && c.act !== undefined ? { act: c.act } : {}),
        ...(o.patient ? { patient: o.patient } : {}),
        ...(o.reason ? { reason: o.reason.slice(0, 200) } : {}),
      });
    };
    handle(req, res, claimsOut).then(done, (err: unknown) => {
      // Only a bug lands here; the cause goes to stderr, the client gets no detail.
      process.stderr.write(`health-api: ${err instanceof Error ? err.stack : String(err)}\n`);
      if (!res.headersSent) sendProblem(res, 500, 'Internal error');
      else res.destroy();
      done({ status: 500, outcome: 'error' });
    });
  };
}

function problem(res: ServerResponse, status: number, title: string, detail?: string, outcome: Outcome['outcome'] = 'bad_request', headers: Record<string, string> = {}, patient?: string): Outcome {
  sendProblem(res, status, title, detail, headers);
  return { status, outcome, ...(patient ? { patient } : {}) };
}

/** The value of `name` when it is the only parameter and given once. */
function single(params: URLSearchParams, name: string): string | undefined {
  const keys = [...params.keys()];
  return keys.length === 1 && keys[0] === name ? params.get(name)! : undefined;
}

function decoded(segment: string): string | undefined {
  try { return decodeURIComponent(segment); } catch { return undefined; }
}
