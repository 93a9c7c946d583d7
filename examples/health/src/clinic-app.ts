import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { bi } from '@sekisho/example-kit/html';
import { createPageIo, isCrossSite, one, readBody, readForm, sendText } from '@sekisho/example-kit/http-io';
import { checkUrl } from '@sekisho/example-kit/loopback';
import { isRecordType, type RecordType } from './fhir.ts';
import { createCibaClient, type ClientPrivateJwk } from './clinic/ciba-client.ts';
import { createCibaRequests, TooManyRequestsError } from './clinic/ciba-requests.ts';
import { createDoctors, type DoctorAccount } from './clinic/doctors.ts';
import type { Chrome } from './clinic/layout.ts';
import { homePage, loginPage, messagePage } from './clinic/pages.ts';
import { createRecordReader } from './clinic/record-reader.ts';
import { requestPage } from './clinic/request-page.ts';
import { createSessions, type Session } from './clinic/sessions.ts';
import { STYLE } from './clinic/style.ts';

export type { ClientPrivateJwk, DoctorAccount };

export interface ClinicAppOptions {
  /** Sekisho's issuer identifier. */
  issuer: string;
  /** The clinic's client_id at Sekisho. */
  clientId: string;
  /** The clinic's ES256 private key (with `kid`); its public half is in the client's registered `jwks`. */
  privateJwk: ClientPrivateJwk;
  /** The health API's FHIR base URL, e.g. `https://health.example/fhir`. */
  healthApiUrl: string;
  /** The health API's resource identifier at Sekisho (`resource`, the token audience). */
  healthApiAudience: string;
  /** As registered: `backchannel_token_delivery_mode`. */
  deliveryMode: 'poll' | 'ping';
  /** Where the clinic app is reached: https makes cookies Secure; ping notifications come to {publicUrl}/ciba/notify. */
  publicUrl: string;
  /** The clinic's own accounts. */
  doctors: DoctorAccount[];
  /** Seconds between polls when Sekisho gives no `interval` (default 5, CIBA's default). */
  pollIntervalFallback?: number;
  /** Seconds added to the poll interval on `slow_down` (default 5, as CIBA says). */
  slowDownSeconds?: number;
  /** Ping mode: seconds between the fallback polls (default 30). */
  pingFallbackPollSeconds?: number;
  /** `requested_expiry` (default 300 s). */
  requestedExpiry?: number;
  /** Requests running at once at most (default 50). */
  maxPending?: number;
  /** How long a finished request's page (and its records) stays (default 600 s). */
  keepFinishedSeconds?: number;
  /** Doctor session lifetime (default 8 h). */
  sessionSeconds?: number;
  clinicName?: string;
  /** Events (no tokens, no records); default: JSON lines on stdout. */
  log?: (event: Record<string, unknown>) => void;
}

export interface ClinicApp {
  handler: RequestListener;
  /** The URL to register as `backchannel_client_notification_endpoint` (ping mode). */
  notificationEndpoint: string;
  /** Stops the pollers and aborts requests in flight (close the HTTP server separately). */
  close(): void;
}

const PATIENT_NUMBER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * The clinic's records system (server-rendered HTML): doctors sign in with the clinic's own
 * accounts, ask a patient's phone through Sekisho (CIBA, poll or ping) and, once the patient
 * approves, read and show their records from the health API with a DPoP-bound token.
 */
export function createClinicApp(options: ClinicAppOptions): ClinicApp {
  const publicUrl = checkUrl('publicUrl', options.publicUrl);
  checkUrl('healthApiUrl', options.healthApiUrl);
  if (options.deliveryMode !== 'poll' && options.deliveryMode !== 'ping') throw new TypeError('deliveryMode must be poll or ping');
  const aborter = new AbortController();
  const log = options.log ?? ((event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`));
  const doctors = createDoctors(options.doctors);
  // The pages load nothing but /style.css and run no script (the waiting page refreshes itself);
  // their forms post to the clinic only.
  const { sendHtml, redirect } = createPageIo();
  const sessions = createSessions({ secure: publicUrl.protocol === 'https:', ttlSeconds: options.sessionSeconds ?? 8 * 3600 });
  const ciba = createCibaClient({
    issuer: options.issuer, clientId: options.clientId, privateJwk: options.privateJwk,
    healthApiAudience: options.healthApiAudience, requestedExpiry: options.requestedExpiry ?? 300, signal: aborter.signal,
  });
  const requests = createCibaRequests({
    ciba, reader: createRecordReader({ healthApiUrl: options.healthApiUrl, signal: aborter.signal }),
    deliveryMode: options.deliveryMode, pollIntervalFallback: options.pollIntervalFallback ?? 5, slowDownSeconds: options.slowDownSeconds ?? 5,
    pingFallbackPollSeconds: options.pingFallbackPollSeconds ?? 30, maxPending: options.maxPending ?? 50,
    keepFinishedSeconds: options.keepFinishedSeconds ?? 600, log,
  });
  const clinicName = options.clinicName ?? '架空クリニック 診療記録システム (fictional clinic)';
  const notificationEndpoint = new URL('/ciba/notify', publicUrl).href;

  const chrome = (session?: Session): Chrome => {
    const doctor = session?.doctorId ? doctors.get(session.doctorId) : undefined;
    return { clinicName, ...(doctor && session ? { doctor: { name: doctor.name, csrf: session.csrf } } : {}) };
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', publicUrl.origin).pathname;
    const method = req.method ?? 'GET';

    if (path === '/ciba/notify') return notify(req, res);
    if (path === '/style.css' && method === 'GET') return sendText(res, 200, 'text/css; charset=utf-8', STYLE, { 'Cache-Control': 'public, max-age=3600' });

    if (method === 'POST') {
      if (isCrossSite(req, publicUrl.origin)) return sendHtml(res, 403, messagePage(chrome(), bi('拒否しました', 'Refused'), bi('他のサイトからの送信は受け付けません。', 'Forms from other sites are not accepted.')));
      const form = await readForm(req);
      if (!form) {
        res.setHeader('Connection', 'close');
        return sendHtml(res, 400, messagePage(chrome(), bi('不正な送信', 'Bad request'), bi('フォームを読み取れませんでした。', 'The form could not be read.')));
      }
      const session = sessions.read(req);
      if (!sessions.csrfOk(session, one(form, 'csrf') ?? null)) {
        return sendHtml(res, 403, messagePage(chrome(), bi('フォームの期限切れ', 'The form expired'), bi('ページを読み込み直して、もう一度送信してください。', 'Reload the page and send it again.'), path === '/login' ? '/login' : '/'));
      }
      if (path === '/login') return login(res, session!, form);
      if (!session!.doctorId) return redirect(res, '/login');
      if (path === '/logout') { sessions.signOut(res, session!); return redirect(res, '/login'); }
      if (path === '/requests') return startRequest(res, session!, form);
      return notFound(res, session);
    }
    if (method !== 'GET') {
      res.setHeader('Allow', 'GET, POST');
      return sendHtml(res, 405, messagePage(chrome(), bi('使えない操作', 'Method not allowed'), bi('この操作には対応していません。', 'This method is not supported.')));
    }

    if (path === '/login') {
      const session = sessions.ensure(req, res);
      if (session.doctorId) return redirect(res, '/');
      return sendHtml(res, 200, loginPage(chrome(), session.csrf));
    }
    const session = sessions.read(req);
    if (!session?.doctorId) return redirect(res, '/login');
    if (path === '/') return sendHtml(res, 200, homePage(chrome(session), session.csrf, requests.listFor(session.doctorId).slice(0, 10)));
    const match = /^\/requests\/([A-Za-z0-9_-]{22})$/.exec(path);
    const request = match ? requests.get(match[1]!) : undefined;
    // Another doctor's request is as absent as one that never was.
    if (!request || request.doctorId !== session.doctorId) return notFound(res, session);
    return sendHtml(res, 200, requestPage(chrome(session), request));
  }

  async function login(res: ServerResponse, session: Session, form: URLSearchParams): Promise<void> {
    const doctor = await doctors.verify(one(form, 'doctor') ?? '', one(form, 'password') ?? '');
    if (!doctor) {
      log({ event: 'login.failed' });
      return sendHtml(res, 401, loginPage(chrome(), session.csrf, true));
    }
    sessions.signIn(res, session, doctor.id);
    log({ event: 'login', doctor: doctor.id });
    return redirect(res, '/');
  }

  async function startRequest(res: ServerResponse, session: Session, form: URLSearchParams): Promise<void> {
    const patientNumber = (one(form, 'patient_number') ?? '').trim();
    const types = form.getAll('types');
    const valid = PATIENT_NUMBER.test(patientNumber) && types.length > 0 && types.every(isRecordType) && new Set(types).size === types.length;
    const doctorId = session.doctorId!;
    if (!valid) {
      return sendHtml(res, 400, homePage(chrome(session), session.csrf, requests.listFor(doctorId).slice(0, 10),
        bi('患者番号（英数字と . _ -）と、照会する記録を 1 つ以上選んでください。', 'Give a patient number (letters, digits, . _ -) and choose at least one kind of record.')));
    }
    try {
      const request = await requests.start(doctorId, patientNumber, types as RecordType[]);
      return redirect(res, `/requests/${request.id}`);
    } catch (err) {
      if (!(err instanceof TooManyRequestsError)) throw err;
      res.setHeader('Retry-After', '30');
      return sendHtml(res, 503, messagePage(chrome(session), bi('混み合っています', 'Busy'), bi('照会が多すぎます。少し待ってからもう一度お試しください。', 'Too many requests are running. Try again shortly.')));
    }
  }

  /** CIBA ping callback (§10.2): Sekisho says a result is ready; we then fetch it ourselves. */
  async function notify(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (options.deliveryMode !== 'ping') return sendText(res, 404, 'text/plain', 'not found\n');
    if (req.method !== 'POST') return sendText(res, 405, 'text/plain', 'POST only\n', { Allow: 'POST' });
    const bearer = BEARER.exec(req.headers.authorization ?? '')?.[1];
    const body = await readBody(req, 4096);
    if (!bearer) return sendText(res, 401, 'text/plain', 'unauthorized\n', { 'WWW-Authenticate': 'Bearer' });
    let json: unknown;
    try { json = JSON.parse(body ?? ''); } catch { json = undefined; }
    const outcome = requests.notify(bearer, json);
    if (outcome === 'unknown') return sendText(res, 401, 'text/plain', 'unauthorized\n', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    if (outcome === 'mismatch') return sendText(res, 400, 'text/plain', 'auth_req_id does not match\n');
    res.writeHead(204);
    res.end();
  }

  function notFound(res: ServerResponse, session?: Session): void {
    sendHtml(res, 404, messagePage(chrome(session), bi('見つかりません', 'Not found'), bi('このページはありません（照会は一定時間後に消えます）。', 'There is no such page (requests are forgotten after a while).')));
  }

  return {
    notificationEndpoint,
    handler: (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log({ event: 'bug', message: err instanceof Error ? err.message : String(err) });
        if (!res.headersSent) sendHtml(res, 500, messagePage(chrome(), bi('エラー', 'Error'), bi('問題が発生しました。', 'Something went wrong.')));
        else res.destroy();
      });
    },
    close() {
      requests.close();
      aborter.abort();
    },
  };
}
