import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ClientPrivateJwk } from '@sekisho/example-kit/client-key';
import { cookieValue } from '@sekisho/example-kit/cookies';
import { html } from '@sekisho/example-kit/html';
import { isCrossSite, one, pageHeaders, readForm, redirect, sendHtml } from '@sekisho/example-kit/http-io';
import { checkUrl, insecureFor } from '@sekisho/example-kit/loopback';
import * as oauth from 'oauth4webapi';
import { createRecordReader } from './clinic/record-reader.ts';
import type { RecordType } from './fhir.ts';
import { RECORD_TYPES } from './fhir.ts';
import { authorizationParameters, grantedAccess } from './portal/connection.ts';
import { createPortalClient, errorCode, PortalOAuthError } from './portal/oidc-client.ts';
import { layout, messagePage, recordsPage, welcomePage, type FormState, type PageContext } from './portal/pages.ts';
import { FORM_TYPES, resourceFromForm, type RecordForm } from './portal/record-forms.ts';
import { createPortalSessions, type Connection, type PortalSession } from './portal/sessions.ts';
import { PORTAL_STYLE } from './portal/style.ts';
import { languageOf, WORDS, type Lang } from './portal/words.ts';

export interface PatientPortalOptions {
  /** Sekisho's issuer identifier. */
  issuer: string;
  /** The portal's client_id at Sekisho. */
  clientId: string;
  /** The portal's ES256 private key (with `kid`); its public half is in the client's registered `jwks`. */
  privateJwk: ClientPrivateJwk;
  /** The health API's FHIR base URL, e.g. `https://health.example/fhir`. */
  healthApiUrl: string;
  /** The health API's resource identifier at Sekisho (`resource`, the token audience). */
  healthApiAudience: string;
  /** Where the portal is reached; the redirect URI is {publicUrl}/callback. https makes the cookie `__Host-` and Secure. */
  publicUrl: string;
  /** The patients' UTC offset, for the time of a home reading (the form's local time). Default +09:00 (Japan). */
  utcOffset?: string;
  /** Idle lifetime of a portal session, seconds (default 30 minutes). */
  sessionSeconds?: number;
  /** Events (no tokens, no records); default: JSON lines on stdout. */
  log?: (event: Record<string, unknown>) => void;
}

export interface PatientPortal {
  handler: RequestListener;
  /** The URL to register in `redirect_uris`. */
  redirectUri: string;
  /** Aborts requests in flight (close the HTTP server separately). */
  close(): void;
}

type Access<T> = { kind: 'ok'; value: T } | { kind: 'ended' } | { kind: 'unreachable' };

const OFFSET = /^[+-](?:0\d|1[0-4]):[0-5]\d$/;

/**
 * The health-record service's own web app for patients: sign in through Sekisho (OpenID Connect,
 * FAPI 2.0: PAR, PKCE, DPoP, private_key_jwt), see one's records from the health API, add a home
 * blood pressure or weight, or an allergy, and disconnect (the grant ends at Sekisho through Grant
 * Management). Server-rendered, no script; Japanese or English.
 *
 * Tokens never leave the server. The access token is a JWT the health API verifies offline, so a
 * consent that ends does not stop a token already issued (until it expires, ≤ 5 minutes). The
 * portal therefore keeps only the refresh token and gets a fresh access token for each page or
 * form that needs one, and drops it after: once the consent ends (its own Disconnect, or the person
 * withdrawing it on Sekisho's My consents), the next refresh answers `invalid_grant` and the portal
 * can do nothing more. With "just this once" (no refresh token) it uses the one access token until
 * it expires.
 */
export function createPatientPortal(options: PatientPortalOptions): PatientPortal {
  const publicUrl = checkUrl('publicUrl', options.publicUrl);
  const healthApi = checkUrl('healthApiUrl', options.healthApiUrl);
  const utcOffset = options.utcOffset ?? '+09:00';
  if (!OFFSET.test(utcOffset)) throw new TypeError('utcOffset must look like +09:00');
  const aborter = new AbortController();
  const redirectUri = new URL('/callback', publicUrl).href;
  const log = options.log ?? ((event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`));
  const client = createPortalClient({
    issuer: options.issuer, clientId: options.clientId, privateJwk: options.privateJwk, redirectUri, audience: options.healthApiAudience, signal: aborter.signal,
  });
  const sessions = createPortalSessions({ secure: publicUrl.protocol === 'https:', ttlSeconds: options.sessionSeconds ?? 30 * 60 });
  const reader = createRecordReader({ healthApiUrl: healthApi.href, signal: aborter.signal });
  const oauthClient: oauth.Client = { client_id: options.clientId };
  const langCookie = publicUrl.protocol === 'https:' ? '__Host-portal-lang' : 'portal-lang';

  /** No script; styles from here; forms post here, and /login's answer redirects to Sekisho. */
  async function sendPage(res: ServerResponse, status: number, page: string): Promise<void> {
    const sekisho = await client.authorizationOrigin();
    sendHtml(res, status, page, pageHeaders(sekisho ? [sekisho] : []));
  }

  /**
   * Runs `task` with a fresh access token (refreshed now, then dropped), one task at a time per
   * session. `ended`: the consent is gone (invalid_grant) or the one-time token expired; the
   * connection is forgotten and the next page says so.
   */
  function withAccess<T>(session: PortalSession, task: (accessToken: string, dpop: oauth.DPoPHandle, c: Connection) => Promise<T>): Promise<Access<T>> {
    return sessions.serial(session, async (): Promise<Access<T>> => {
      const c = session.connection;
      if (!c) return { kind: 'ended' };
      let accessToken: string;
      if (c.refreshToken) {
        try {
          const fresh = await client.refresh(c.refreshToken, c.dpopKeys, c.sub);
          accessToken = fresh.accessToken;
          if (fresh.refreshToken) c.refreshToken = fresh.refreshToken;
        } catch (err) {
          const code = errorCode(err);
          if (code !== 'invalid_grant') return { kind: 'unreachable' };
          session.connection = undefined;
          session.notice = 'ended';
          log({ event: 'portal.consent_ended', sub: c.sub, patient: c.patient.ref });
          return { kind: 'ended' };
        }
      } else if (c.accessToken && c.accessToken.expiresAt > Date.now() + 5000) {
        accessToken = c.accessToken.value;
      } else {
        session.connection = undefined;
        session.notice = 'expired_once';
        return { kind: 'ended' };
      }
      return { kind: 'ok', value: await task(accessToken, oauth.DPoP(oauthClient, c.dpopKeys), c) };
    });
  }

  async function home(res: ServerResponse, session: PortalSession, ctx: PageContext, form?: FormState, languageSwitch = false): Promise<void> {
    const words = WORDS[ctx.lang];
    // A message is shown once; switching the language shows the same page, message included, again.
    const notice = session.notice ?? (languageSwitch ? session.shownNotice : undefined);
    session.notice = undefined;
    session.shownNotice = notice;
    if (!session.connection) return sendPage(res, 200, welcomePage({ ...ctx, signedIn: false }, notice));
    const read = await withAccess(session, (token, dpop, c) => reader.read(token, dpop, c.patient.ref,
      c.canRead.filter((t): t is RecordType => t !== 'Patient'), RECORD_TYPES));
    if (read.kind === 'ended') return redirect(res, '/');
    if (read.kind === 'unreachable' || !read.value.ok) {
      const error = read.kind === 'ok' && !read.value.ok ? read.value.error : 'unavailable';
      const [status, problem] = error === 'forbidden' ? [403, words.forbidden] : error === 'patient_not_found' ? [404, words.noPatientRecord] : [503, words.unreachable];
      return sendPage(res, status, messagePage(ctx, words.recordsTitle, problem));
    }
    const today = new Date(Date.now() + offsetMs(utcOffset)).toISOString().slice(0, 10);
    // A refused form: 400 for what the portal caught, the API's own status for what it refused.
    return sendPage(res, form ? form.status ?? 400 : 200,
      recordsPage(ctx, session.connection!, read.value.view, { ...(notice ? { notice } : {}), ...(form ? { form } : {}), today }));
  }

  async function login(res: ServerResponse, session: PortalSession, ctx: PageContext): Promise<void> {
    try {
      const { url, pending } = await client.start(authorizationParameters());
      session.pending = { ...pending, startedAt: Date.now() };
      return redirect(res, url);
    } catch (err) {
      log({ event: 'portal.signin_failed', error: errorCode(err) });
      return sendPage(res, 503, messagePage(ctx, WORDS[ctx.lang].refusedTitle, WORDS[ctx.lang].unreachable));
    }
  }

  async function callback(req: IncomingMessage, res: ServerResponse, url: URL, lang: Lang): Promise<void> {
    const words = WORDS[lang];
    const session = sessions.read(req);
    const pending = session?.pending;
    // A callback this browser did not start (or started too long ago) is not finished here.
    if (!session || !pending) return redirect(res, '/');
    // The page of a failed sign-in offers signing in again: its form needs this session's token.
    const ctx: PageContext = { lang, csrf: session.csrf, signedIn: false };
    session.pending = undefined;
    let signed;
    try {
      signed = await client.finish(url, pending);
    } catch (err) {
      const code = err instanceof PortalOAuthError ? err.code : 'error';
      log({ event: 'portal.signin_failed', error: code });
      return sendPage(res, code === 'access_denied' ? 403 : 400, welcomePage(ctx, undefined, words.refused(code)));
    }
    const granted = grantedAccess(signed.authorizationDetails, signed.scopes);
    if (typeof granted === 'string') {
      log({ event: 'portal.signin_failed', error: granted });
      return sendPage(res, 403, welcomePage(ctx, undefined, granted === 'no_patient' ? words.noPatient : words.twoPatients));
    }
    // A new session id for the signed-in session: one fixed before sign-in is useless after it.
    const fresh = sessions.renew(res, session);
    fresh.connection = {
      sub: signed.sub, patient: granted.patient, canRead: granted.canRead, canAdd: granted.canAdd, dpopKeys: pending.dpopKeys,
      ...(signed.grantId ? { grantId: signed.grantId } : {}),
      ...(signed.refreshToken ? { refreshToken: signed.refreshToken } : { accessToken: { value: signed.accessToken, expiresAt: signed.expiresAt } }),
    };
    log({ event: 'portal.signed_in', sub: signed.sub, patient: granted.patient.ref, ongoing: signed.refreshToken !== undefined, can_add: granted.canAdd });
    return redirect(res, '/');
  }

  async function addRecord(res: ServerResponse, session: PortalSession, ctx: PageContext, form: RecordForm, fields: URLSearchParams): Promise<void> {
    const c = session.connection;
    if (!c) return redirect(res, '/');
    const type = FORM_TYPES[form];
    const parsed = resourceFromForm(form, fields, c.patient.ref, utcOffset);
    if (!parsed.ok) return home(res, session, ctx, { form, error: parsed.error, values: fields });
    if (!c.canAdd.includes(type)) return home(res, session, ctx, { form, error: 'refusedByApi', status: 403, values: fields });
    const sent = await withAccess(session, async (token, dpop) => {
      const url = new URL(type, healthApi.href.replace(/\/?$/, '/'));
      for (let attempt = 0; ; attempt += 1) {
        try {
          const response = await oauth.protectedResourceRequest(token, 'POST', url, new Headers({ 'content-type': 'application/fhir+json', accept: 'application/fhir+json' }),
            JSON.stringify(parsed.resource), { DPoP: dpop, signal: AbortSignal.any([aborter.signal, AbortSignal.timeout(10_000)]), ...insecureFor(url) });
          await response.body?.cancel();
          return response.status;
        } catch (err) {
          if (attempt === 0 && oauth.isDPoPNonceError(err)) continue;
          if (err instanceof oauth.WWWAuthenticateChallengeError) return err.status;
          throw err;
        }
      }
    }).catch((): Access<number> => ({ kind: 'unreachable' }));
    if (sent.kind === 'ended') return redirect(res, '/');
    if (sent.kind === 'unreachable') return sendPage(res, 503, messagePage(ctx, WORDS[ctx.lang].recordsTitle, WORDS[ctx.lang].unreachable));
    if (sent.value !== 201) return home(res, session, ctx, { form, error: 'refusedByApi', status: sent.value, values: fields });
    log({ event: 'portal.record_added', sub: c.sub, patient: c.patient.ref, type, form });
    session.notice = 'added';
    return redirect(res, '/');
  }

  async function disconnect(res: ServerResponse, session: PortalSession, ctx: PageContext): Promise<void> {
    const c = session.connection;
    if (!c) return redirect(res, '/');
    if (c.grantId) {
      try {
        const outcome = await sessions.serial(session, () => client.revokeGrant(c.grantId!));
        log({ event: 'portal.disconnected', sub: c.sub, patient: c.patient.ref, grant: outcome });
      } catch (err) {
        log({ event: 'portal.disconnect_failed', error: errorCode(err) });
        return sendPage(res, 503, messagePage(ctx, WORDS[ctx.lang].connectionTitle, WORDS[ctx.lang].disconnectFailed));
      }
    }
    // The tokens and the key go too: nothing of the connection is kept.
    session.connection = undefined;
    session.notice = 'disconnected';
    return redirect(res, '/');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', publicUrl.origin);
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const queryLang = url.searchParams.get('lang');
    const lang: Lang = languageOf(queryLang, cookieValue(req.headers.cookie, langCookie), req.headers['accept-language']);
    if (queryLang === 'ja' || queryLang === 'en') {
      res.appendHeader('Set-Cookie', `${langCookie}=${lang}; Path=/; SameSite=Lax; Max-Age=31536000${publicUrl.protocol === 'https:' ? '; Secure' : ''}`);
    }
    const words = WORDS[lang];

    if (path === '/style.css' && method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600', 'X-Content-Type-Options': 'nosniff' });
      res.end(PORTAL_STYLE);
      return;
    }
    if (path === '/callback' && method === 'GET') return callback(req, res, url, lang);

    if (method === 'POST') {
      const anonymous: PageContext = { lang, csrf: '', signedIn: false };
      if (isCrossSite(req, publicUrl.origin)) return sendPage(res, 403, messagePage(anonymous, words.error, words.refusedForm));
      const form = await readForm(req);
      if (!form) {
        res.setHeader('Connection', 'close');
        return sendPage(res, 400, messagePage(anonymous, words.error, words.formExpired));
      }
      const session = sessions.read(req);
      if (!session || !sessions.csrfOk(session, one(form, 'csrf'))) return sendPage(res, 403, messagePage(anonymous, words.error, words.formExpired));
      const ctx: PageContext = { lang, csrf: session.csrf, signedIn: session.connection !== undefined };
      if (path === '/login') return login(res, session, ctx);
      if (path === '/logout') {
        // Signing out forgets the tokens here; the consent at Sekisho stays (Disconnect ends it).
        const next = sessions.renew(res, session);
        next.notice = 'signed_out';
        return redirect(res, '/');
      }
      if (path === '/disconnect') return disconnect(res, session, ctx);
      const match = /^\/records\/(blood-pressure|body-weight|allergy)$/.exec(path);
      if (match) return addRecord(res, session, ctx, match[1] as RecordForm, form);
      return sendPage(res, 404, messagePage(ctx, words.error, words.notFound));
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, POST');
      return sendPage(res, 405, messagePage({ lang, csrf: '', signedIn: false }, words.error, words.notFound));
    }
    const session = sessions.ensure(req, res);
    const ctx: PageContext = { lang, csrf: session.csrf, signedIn: session.connection !== undefined };
    if (path === '/') return home(res, session, ctx, undefined, queryLang === 'ja' || queryLang === 'en');
    return sendPage(res, 404, messagePage(ctx, words.error, words.notFound));
  }

  return {
    redirectUri,
    handler: (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log({ event: 'portal.bug', message: err instanceof Error ? err.message : String(err) });
        if (!res.headersSent) {
          const page = layout({ lang: 'ja', csrf: '', signedIn: false }, WORDS.ja.error, html`<p>${WORDS.ja.error} / ${WORDS.en.error}</p>`);
          res.writeHead(500, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'none'; style-src 'self'" });
          res.end(page);
        } else res.destroy();
      });
    },
    close() { aborter.abort(); },
  };
}

function offsetMs(offset: string): number {
  const sign = offset.startsWith('-') ? -1 : 1;
  const [h, m] = offset.slice(1).split(':').map(Number);
  return sign * ((h ?? 0) * 60 + (m ?? 0)) * 60_000;
}
