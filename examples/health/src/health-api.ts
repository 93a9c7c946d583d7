import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createResourceServer, ResourceServerError, type ResourceServerOptions, type VerifiedAccess } from '@sekisho/resource-server';
import { toWebRequest } from '@sekisho/resource-server/node';
import { checkUrl } from '@sekisho/example-kit/loopback';
import { FHIR_ID, type Bundle, type HealthRecords, type Resource, type ResourceType } from './fhir.ts';
import { readJsonBody } from './health-api/json-body.ts';
import { requirementFor, type FhirAction } from './health-api/record-access.ts';
import { parseNewRecord } from './health-api/record-input.ts';
import { createRecordStore } from './health-api/record-store.ts';
import { sendAuthError, sendJson, sendProblem } from './health-api/responses.ts';
import { allowedMethods, routeOf, writable } from './health-api/routes.ts';

export interface HealthApiOptions {
  /** The authorization server's issuer identifier; tokens must carry it as `iss`. */
  issuer: string;
  /** This API's resource identifier (RFC 8707); tokens must carry it in `aud`. */
  audience: string;
  /** The issuer's JWKS URL. Without it and without `jwks`, it is read from the issuer's discovery document. */
  jwksUri?: string;
  /** The issuer's public keys, when they are known in advance (no fetching at all). */
  jwks?: ResourceServerOptions['jwks'];
  /** Seconds of clock difference tolerated on exp/iat/nbf (the SDK's default is 5). */
  clockToleranceSeconds?: number;
  /** The patients and their records (e.g. SAMPLE_RECORDS); records added through the API are kept in memory. */
  data: HealthRecords;
  /**
   * The FHIR base URL as clients reach it, e.g. `https://health.example/fhir`: requests are served
   * under its path, and DPoP proofs must name URLs under it (`htu`). The Host header is never
   * trusted for this. Default: `audience`.
   */
  publicUrl?: string;
  /** Records the API keeps at most per patient, besides the seeded ones (default 200). */
  maxAddedPerPatient?: number;
  /** One line per request; default: JSON on stdout. Never given a token. */
  log?: (line: AccessLogLine) => void;
}

export interface AccessLogLine {
  time: string;
  method: string;
  path: string;
  status: number;
  outcome: 'ok' | 'created' | 'no_token' | 'invalid_request' | 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'insufficient_scope'
    | 'bad_request' | 'not_found' | 'unavailable' | 'error';
  client_id?: string;
  sub?: string;
  /** RFC 8693 `act`: who acted for `sub` when the grant was given (a guardian for a patient). */
  act?: unknown;
  patient?: string;
  /** `Observation/ob-…`: the record a POST created. */
  created?: string;
  /** Why a token was refused: the SDK's stable error code (ERR_DPOP_REPLAY, ERR_INSUFFICIENT_SCOPE, …), or ours for input. */
  reason?: string;
}

interface Outcome { status: number; outcome: AccessLogLine['outcome']; patient?: string; reason?: string; created?: string }

/**
 * A FHIR-shaped health-record API that accepts only DPoP-bound JWT access tokens (RFC 9068,
 * RFC 9449) from one issuer, for one audience, verified with @sekisho/resource-server:
 *
 *   GET  {base}/Patient/{id}          Patient             scope patient/Patient.rs, detail Patient + read
 *   GET  {base}/{Type}/{id}           {Type}              scope patient/{Type}.rs,  detail {Type} + read
 *   GET  {base}/{Type}?patient={id}   Bundle (searchset)  scope patient/{Type}.rs,  detail {Type} + search
 *   POST {base}/Observation           201 + Location      scope patient/Observation.c, detail Observation + create
 *   POST {base}/AllergyIntolerance    201 + Location      scope patient/AllergyIntolerance.c, detail AllergyIntolerance + create
 *
 * with {Type} one of AllergyIntolerance, MedicationStatement, Observation, Condition; the
 * `fhir_record_access` detail must name the patient (its `patient.ref`, a FHIR id). Order of
 * checks: route (404/405), input (400: what the request is about must be known before asking
 * whether the token allows it), token and authority (401, 403; 503 when the issuer's keys cannot
 * be read), data (404); a POST's record (400/413/415/422) is judged after its token. Every error is a problem+json body; bad input is never a 500.
 */
export function createHealthApi(options: HealthApiOptions): RequestListener {
  const base = checkUrl('publicUrl', options.publicUrl ?? options.audience);
  checkUrl('issuer', options.issuer);
  if (options.jwksUri !== undefined) checkUrl('jwksUri', options.jwksUri);
  const basePath = base.pathname.replace(/\/$/, '');
  const publicBase = `${base.origin}${basePath}`;
  const store = createRecordStore(options.data, { maxAddedPerPatient: options.maxAddedPerPatient ?? 200 });
  const rs = createResourceServer({
    issuer: options.issuer, audience: options.audience, publicUrl: publicBase,
    ...(options.jwks ? { jwks: options.jwks } : {}),
    ...(options.jwksUri ? { jwksUri: options.jwksUri } : {}),
    ...(options.clockToleranceSeconds !== undefined ? { clockToleranceSeconds: options.clockToleranceSeconds } : {}),
  });
  const log = options.log ?? ((line: AccessLogLine) => process.stdout.write(`${JSON.stringify(line)}\n`));

  async function handle(req: IncomingMessage, res: ServerResponse, seen: { access?: VerifiedAccess }): Promise<Outcome> {
    const target = req.url ?? '';
    // Origin-form only: an absolute or `//host` target would let the request name another host.
    if (!target.startsWith('/') || target.startsWith('//')) return problem(res, 400, 'Bad request target');
    const url = new URL(target, base.origin);
    // `/\host/…` parses as another host (WHATWG URL); the proof's htu must be checked against ours.
    if (url.origin !== base.origin) return problem(res, 400, 'Bad request target');
    const route = routeOf(url.pathname, basePath);
    if (!route) return problem(res, 404, 'Not found', 'No such FHIR endpoint here.', 'not_found');
    const allow = allowedMethods(route);
    if (!allow.includes(req.method ?? '')) {
      return problem(res, 405, 'Method not allowed', route.kind === 'type' ? 'Records of this type are read here, not added.' : 'Records here are read, not changed.', 'bad_request', { Allow: allow.join(', ') });
    }

    /** Token and authority, by the SDK: the scope for the interaction and a detail naming the patient. */
    const authorize = async (type: ResourceType, action: FhirAction, patientId: string | undefined): Promise<VerifiedAccess | Outcome> => {
      try {
        const request = toWebRequest(req, { publicUrl: publicBase });
        const access = await rs.verify(request, requirementFor(request, type, action, patientId, options.audience));
        seen.access = access;
        return access;
      } catch (err) {
        if (!(err instanceof ResourceServerError)) throw err;
        sendAuthError(res, err);
        return { status: err.status, outcome: err.status === 503 ? 'unavailable' : err.error ?? 'no_token', reason: err.code, ...(patientId ? { patient: patientId } : {}) };
      }
    };

    if (req.method === 'POST' && writable(route)) {
      if (url.search) return problem(res, 400, 'Bad request', 'A create takes no query parameters.');
      const body = await readJsonBody(req);
      const parsed = body.ok ? parseNewRecord(route.type, body.value) : undefined;
      // The token first, as for every request: a client without one is told 401, not what is wrong
      // with its record. A record that names no patient is held to a detail for any patient.
      const access = await authorize(route.type, 'create', parsed?.ok ? parsed.patientId : undefined);
      // The rest of a body too large was not read: the connection cannot carry another request.
      if (!body.ok && body.status === 413) res.setHeader('Connection', 'close');
      if (!isAccess(access)) return access;
      if (!body.ok) return problem(res, body.status, body.status === 415 ? 'Unsupported media type' : body.status === 413 ? 'Body too large' : 'Bad request', body.detail);
      if (!parsed?.ok) return problem(res, parsed?.status ?? 400, parsed?.status === 422 ? 'Record refused' : 'Bad record', parsed?.detail, 'bad_request', {}, undefined, 'invalid_record');
      const added = store.add(parsed.record);
      if (!added.ok && added.reason === 'unknown_patient') return problem(res, 404, 'Unknown patient', 'There is no such patient here.', 'not_found', {}, parsed.patientId);
      if (!added.ok) return problem(res, 422, 'Record refused', 'This example keeps a bounded number of added records per patient, and this patient has reached it.', 'bad_request', {}, parsed.patientId, 'store_full');
      const location = `${publicBase}/${added.record.resourceType}/${added.record.id}`;
      sendJson(res, 201, added.record, undefined, { ...access.responseHeaders, Location: location });
      return { status: 201, outcome: 'created', patient: parsed.patientId, created: `${added.record.resourceType}/${added.record.id}` };
    }

    if (route.kind === 'patient' || route.kind === 'record') {
      const id = decoded(route.id);
      if (id === undefined || !FHIR_ID.test(id)) return problem(res, 400, 'Bad id', 'A FHIR id is 1 to 64 of A-Z a-z 0-9 - and .');
      if (url.search) return problem(res, 400, 'Bad request', 'A read takes no query parameters.');
      if (route.kind === 'patient') {
        const access = await authorize('Patient', 'read', id);
        if (!isAccess(access)) return access;
        const patient = store.patient(id);
        if (!patient) return problem(res, 404, 'Unknown patient', 'There is no such patient here.', 'not_found', {}, id);
        sendJson(res, 200, patient, undefined, access.responseHeaders);
        return { status: 200, outcome: 'ok', patient: id };
      }
      const found = store.read(route.type, id);
      // An unknown id still needs a token that may read this type for some patient before it is
      // said to be unknown; a known one, a token for its patient.
      const access = await authorize(route.type, 'read', found?.patientId);
      if (!isAccess(access)) return access;
      if (!found) return problem(res, 404, 'Unknown record', 'There is no such record here.', 'not_found');
      sendJson(res, 200, found.record, undefined, access.responseHeaders);
      return { status: 200, outcome: 'ok', patient: found.patientId };
    }

    const raw = single(url.searchParams, 'patient');
    if (raw === undefined) return problem(res, 400, 'Bad search', `Search ${route.type} by exactly one patient parameter and nothing else.`);
    const id = raw.startsWith('Patient/') ? raw.slice('Patient/'.length) : raw;
    if (!FHIR_ID.test(id)) return problem(res, 400, 'Bad patient id', 'A FHIR id is 1 to 64 of A-Z a-z 0-9 - and .');
    const access = await authorize(route.type, 'search', id);
    if (!isAccess(access)) return access;
    const records = store.search(route.type, id);
    if (!records) return problem(res, 404, 'Unknown patient', 'There is no such patient here.', 'not_found', {}, id);
    sendJson(res, 200, bundle(`${publicBase}/${route.type}?patient=${encodeURIComponent(id)}`, records), undefined, access.responseHeaders);
    return { status: 200, outcome: 'ok', patient: id };
  }

  function bundle(self: string, resources: Resource[]): Bundle {
    return {
      resourceType: 'Bundle', type: 'searchset', total: resources.length, link: [{ relation: 'self', url: self }],
      entry: resources.map((resource) => ({ fullUrl: `${publicBase}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' } })),
    };
  }

  return (req, res) => {
    const seen: { access?: VerifiedAccess } = {};
    const done = (o: Outcome) => {
      const c = seen.access?.claims;
      log({
        time: new Date().toISOString(), method: req.method ?? '', path: (req.url ?? '').slice(0, 500), status: o.status, outcome: o.outcome,
        ...(c ? { client_id: c.client_id, ...(c.sub !== undefined ? { sub: c.sub } : {}) } : {}),
        ...(c && c.act !== undefined ? { act: c.act } : {}),
        ...(o.patient ? { patient: o.patient } : {}),
        ...(o.created ? { created: o.created } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
      });
    };
    handle(req, res, seen).then(done, (err: unknown) => {
      // Only a bug lands here; the cause goes to stderr, the client gets no detail.
      process.stderr.write(`health-api: ${err instanceof Error ? err.stack : String(err)}\n`);
      if (!res.headersSent) sendProblem(res, 500, 'Internal error');
      else res.destroy();
      done({ status: 500, outcome: 'error' });
    });
  };
}

const isAccess = (value: VerifiedAccess | Outcome): value is VerifiedAccess => 'claims' in value;

function problem(res: ServerResponse, status: number, title: string, detail?: string, outcome: Outcome['outcome'] = 'bad_request', headers: Record<string, string> = {}, patient?: string, reason?: string): Outcome {
  sendProblem(res, status, title, detail, headers);
  return { status, outcome, ...(patient ? { patient } : {}), ...(reason ? { reason } : {}) };
}

/** The value of `name` when it is the only parameter and given once. */
function single(params: URLSearchParams, name: string): string | undefined {
  const keys = [...params.keys()];
  return keys.length === 1 && keys[0] === name ? params.get(name)! : undefined;
}

function decoded(segment: string): string | undefined {
  try { return decodeURIComponent(segment); } catch { return undefined; }
}
