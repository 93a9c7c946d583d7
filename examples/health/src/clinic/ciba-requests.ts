import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthorizationDetails, DPoPHandle } from 'oauth4webapi';
import { isRecordType, type RecordType } from '../fhir.ts';
import { createBindingMessage } from './binding-message.ts';
import { smartScopes } from '../health-api/record-access.ts';
import { CibaStartError, FHIR_RECORD_ACCESS, type CibaClient, type TokenOutcome } from './ciba-client.ts';
import type { RecordReader, RecordsView } from './record-reader.ts';

/**
 * waiting → reading → done, or → denied | expired | error. A request that Sekisho refused at once
 * is `error` from the start.
 */
export type Status = 'waiting' | 'reading' | 'done' | 'denied' | 'expired' | 'error';

/** What the pages see of a request: no token, no DPoP key, no notification token. */
export interface ClinicRequest {
  id: string;
  doctorId: string;
  patientNumber: string;
  resourceTypes: RecordType[];
  bindingMessage: string;
  createdAt: number;
  expiresAt: number;
  status: Status;
  /** A short code: the OAuth error, or one of ours (no_patient_granted, patient_not_found, …). */
  error?: string;
  /** Who approved: the patient, or a delegate (a guardian) for them (`act` in the ID token). */
  approvedBy?: 'patient' | 'delegate';
  records?: RecordsView;
}

interface Entry extends ClinicRequest {
  authReqId?: string;
  interval: number;
  timer?: NodeJS.Timeout;
  busy: boolean;
  again: boolean;
  dpop?: DPoPHandle;
  notificationHash?: Buffer;
  finishedAt?: number;
}

export interface CibaRequestOptions {
  ciba: CibaClient;
  reader: RecordReader;
  deliveryMode: 'poll' | 'ping';
  /** Seconds between polls when Sekisho's answer gives no `interval` (CIBA §7.3 says 5). */
  pollIntervalFallback: number;
  /** Seconds added to the interval on each `slow_down` (CIBA §11: 5). */
  slowDownSeconds: number;
  /** Ping mode: the slow poll kept in case a notification is lost (CIBA §10.2 lets a ping client poll). */
  pingFallbackPollSeconds: number;
  /** Requests still running at most; more are refused until some finish. */
  maxPending: number;
  /** How long a finished request (and the records it read) stays viewable. */
  keepFinishedSeconds: number;
  /** Finished requests kept at most; past it the oldest go. */
  maxFinished?: number;
  log: (event: Record<string, unknown>) => void;
}

export class TooManyRequestsError extends Error {}

const ACTIVE: ReadonlySet<Status> = new Set(['waiting', 'reading']);
const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * The clinic's CIBA requests, in memory: start one, follow it by polling or by Sekisho's ping,
 * read the records once tokens arrive, forget it a while after it ends. Bounded: at most
 * `maxPending` running and `maxFinished` finished ones.
 */
export function createCibaRequests(options: CibaRequestOptions) {
  const entries = new Map<string, Entry>();
  const maxFinished = options.maxFinished ?? 200;
  let closed = false;

  function sweep(now = Date.now()): void {
    const finished = [...entries.values()].filter((e) => e.finishedAt !== undefined);
    for (const e of finished) if (e.finishedAt! + options.keepFinishedSeconds * 1000 <= now) entries.delete(e.id);
    const left = finished.filter((e) => entries.has(e.id)).sort((a, b) => a.finishedAt! - b.finishedAt!);
    for (const e of left.slice(0, Math.max(0, left.length - maxFinished))) entries.delete(e.id);
  }

  function finish(e: Entry, status: Exclude<Status, 'waiting' | 'reading'>, error?: string): void {
    clearTimeout(e.timer);
    e.status = status;
    if (error) e.error = error;
    e.finishedAt = Date.now();
    // The DPoP key goes with the request: the access token bound to it is useless from now on.
    e.dpop = undefined;
    e.notificationHash = undefined;
    options.log({ event: 'ciba.finished', request: e.id, status, ...(error ? { error } : {}), ...(e.approvedBy ? { approved_by: e.approvedBy } : {}) });
    sweep();
  }

  function nextDelay(e: Entry): number {
    const seconds = options.deliveryMode === 'poll' ? e.interval : Math.max(e.interval, options.pingFallbackPollSeconds);
    // Wake up at the expiry at the latest, so the page says "expired" on time.
    return Math.max(0, Math.min(seconds * 1000, e.expiresAt - Date.now()));
  }

  function schedule(e: Entry): void {
    clearTimeout(e.timer);
    if (closed || e.status !== 'waiting') return;
    e.timer = setTimeout(() => run(e), nextDelay(e));
  }

  /** attempt() without a floating rejection: a bug ends the request as an error, not the process. */
  function run(e: Entry): void {
    attempt(e).catch((err: unknown) => {
      options.log({ event: 'ciba.bug', request: e.id, message: err instanceof Error ? err.message : String(err) });
      if (ACTIVE.has(e.status)) finish(e, 'error', 'internal_error');
    });
  }

  async function attempt(e: Entry): Promise<void> {
    if (closed || e.status !== 'waiting' || !e.dpop || !e.authReqId) return;
    if (Date.now() >= e.expiresAt) return finish(e, 'expired');
    // One token request at a time per request; a ping during a poll asks again right after it.
    if (e.busy) { e.again = true; return; }
    e.busy = true;
    clearTimeout(e.timer);
    let outcome: TokenOutcome;
    try {
      outcome = await options.ciba.token(e.authReqId, e.dpop);
    } finally {
      e.busy = false;
    }
    if (closed || e.status !== 'waiting') return;
    if (outcome.kind === 'failed') return finish(e, outcome.reason, outcome.error);
    if (outcome.kind === 'tokens') return receive(e, outcome);
    if (outcome.kind === 'slow_down') e.interval += options.slowDownSeconds;
    if (e.again) { e.again = false; return attempt(e); }
    schedule(e);
  }

  async function receive(e: Entry, tokens: Extract<TokenOutcome, { kind: 'tokens' }>): Promise<void> {
    e.status = 'reading';
    e.approvedBy = tokens.actor !== undefined ? 'delegate' : 'patient';
    const granted = grantedPatient(tokens.authorizationDetails, tokens.scopes);
    if (!granted) return finish(e, 'error', 'no_patient_granted');
    const dpop = e.dpop!;
    const result = await options.reader.read(tokens.accessToken, dpop, granted.id, granted.types, e.resourceTypes);
    if (closed) return;
    if (!result.ok) return finish(e, 'error', result.error);
    e.records = result.view;
    finish(e, 'done');
  }

  return {
    /** Starts a request for the doctor; throws TooManyRequestsError. A refusal by Sekisho is an `error` request. */
    async start(doctorId: string, patientNumber: string, resourceTypes: RecordType[]): Promise<ClinicRequest> {
      sweep();
      if ([...entries.values()].filter((e) => ACTIVE.has(e.status)).length >= options.maxPending) throw new TooManyRequestsError();
      const now = Date.now();
      const e: Entry = {
        id: randomBytes(16).toString('base64url'), doctorId, patientNumber, resourceTypes, bindingMessage: createBindingMessage(),
        createdAt: now, expiresAt: now, status: 'waiting', interval: options.pollIntervalFallback, busy: false, again: false,
      };
      entries.set(e.id, e);
      const notificationToken = options.deliveryMode === 'ping' ? randomBytes(32).toString('base64url') : undefined;
      try {
        e.dpop = await options.ciba.newDpop();
        const started = await options.ciba.start({
          loginHint: patientNumber, bindingMessage: e.bindingMessage, resourceTypes,
          ...(notificationToken ? { clientNotificationToken: notificationToken } : {}),
        });
        e.authReqId = started.authReqId;
        e.expiresAt = Date.now() + started.expiresIn * 1000;
        if (started.interval) e.interval = started.interval;
        if (notificationToken) e.notificationHash = sha256(notificationToken);
      } catch (err) {
        finish(e, 'error', err instanceof CibaStartError ? err.error : 'unreachable');
        return e;
      }
      options.log({ event: 'ciba.started', request: e.id, doctor: doctorId, mode: options.deliveryMode, types: resourceTypes });
      schedule(e);
      return e;
    },

    get(id: string): ClinicRequest | undefined {
      sweep();
      return entries.get(id);
    },

    /** The doctor's requests, newest first. */
    listFor(doctorId: string): ClinicRequest[] {
      sweep();
      return [...entries.values()].filter((e) => e.doctorId === doctorId).sort((a, b) => b.createdAt - a.createdAt);
    },

    /**
     * A ping (CIBA §10.2): `unknown` unless the bearer token is a waiting request's
     * client_notification_token (compared in constant time, as hashes); `mismatch` when the body
     * names another auth_req_id. Accepted: the token is fetched now, once.
     */
    notify(bearer: string, body: unknown): 'accepted' | 'unknown' | 'mismatch' {
      const presented = sha256(bearer);
      let match: Entry | undefined;
      for (const e of entries.values()) {
        if (e.notificationHash && timingSafeEqual(e.notificationHash, presented)) match = e;
      }
      if (!match || match.status !== 'waiting') return 'unknown';
      const authReqId = (body as { auth_req_id?: unknown } | null)?.auth_req_id;
      if (typeof authReqId !== 'string' || authReqId !== match.authReqId) return 'mismatch';
      options.log({ event: 'ciba.notified', request: match.id });
      run(match);
      return 'accepted';
    },

    /** Stops every poller; nothing is fetched after this. */
    close(): void {
      closed = true;
      for (const e of entries.values()) clearTimeout(e.timer);
    },
  };
}
export type CibaRequests = ReturnType<typeof createCibaRequests>;

/**
 * The patient and record types the person granted: the `fhir_record_access` detail of the token
 * response, enriched by Sekisho's consent step with `patient: { id, label, ref }`, the patient
 * picked on the phone. `ref` is the health API's FHIR Patient id (what the hospital gave when the
 * record was linked); `id` is Sekisho's own and means nothing to the API. Only one patient is
 * expected; several, or none, is an error.
 */
function grantedPatient(details: AuthorizationDetails[], scopes: readonly string[]): { id: string; types: RecordType[] } | undefined {
  const patients = details
    .filter((d) => d.type === FHIR_RECORD_ACCESS && Array.isArray(d.actions) && d.actions.includes('search'))
    .map((d) => {
      const p = d.patient as { ref?: unknown } | null | undefined;
      // A type counts when the detail names it and its scope was granted too: the API requires both.
      const types = Array.isArray(d.resource_types)
        ? d.resource_types.filter((t): t is RecordType => typeof t === 'string' && isRecordType(t) && scopes.includes(smartScopes(t, 'read').v2))
        : [];
      return typeof p?.ref === 'string' && p.ref ? { id: p.ref, types } : undefined;
    })
    .filter((p) => p !== undefined);
  return new Set(patients.map((p) => p.id)).size === 1 ? patients[0] : undefined;
}
