import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cookieValue, sameText, sessionCookieName, setSessionCookie } from '@sekisho/example-kit/cookies';
import type { CryptoKeyPair } from 'oauth4webapi';
import type { PendingSignIn } from './oidc-client.ts';

/** The consent the portal holds for this session: everything it needs to reach the health API. Server-side only. */
export interface Connection {
  /** Sekisho's subject (the account); the patient is `patient`. */
  sub: string;
  /** The FHIR Patient id the person chose (the granted detail's `patient.ref`) and its label. */
  patient: { ref: string; label: string };
  /** The record types the person allowed to be added (scope and detail both granted). */
  canAdd: Array<'Observation' | 'AllergyIntolerance'>;
  /** The record types the person allowed to be read (scope and detail both granted), Patient included. */
  canRead: string[];
  grantId?: string;
  refreshToken?: string;
  /** Without a refresh token ("just this once"): the one access token, used until it expires. */
  accessToken?: { value: string; expiresAt: number };
  /** The key every token of this connection is bound to; never leaves the process. */
  dpopKeys: CryptoKeyPair;
}

export type Notice = 'added' | 'disconnected' | 'ended' | 'expired_once' | 'signed_out';

export interface PortalSession {
  id: string;
  csrf: string;
  expiresAt: number;
  pending?: PendingSignIn & { startedAt: number };
  connection?: Connection;
  /** One message for the next page (after a redirect). */
  notice?: Notice;
  /** The message the last page showed, shown again when the person switches the language. */
  shownNotice?: Notice;
  /** One request at a time may use the connection's tokens (refresh, read, write). */
  busy?: Promise<unknown>;
}

export interface PortalSessionOptions {
  /** `__Host-` prefixed and Secure when the portal is served over https. */
  secure: boolean;
  /** Idle lifetime of a session, seconds. */
  ttlSeconds: number;
  /** Sessions held at most; past it the oldest ends. */
  max?: number;
}

/** A sign-in left unfinished this long is forgotten (Sekisho's own interaction lasts 10 minutes). */
const PENDING_MS = 10 * 60_000;

/**
 * Server-side sessions: the cookie holds only a random id (HttpOnly, SameSite=Lax so the redirect
 * back from Sekisho carries it, Path=/); the tokens, the DPoP key and the CSRF token stay in
 * memory. A new id on sign-in (a session fixed before it is useless after it). Bounded, and
 * forgotten when the process ends.
 */
export function createPortalSessions(options: PortalSessionOptions) {
  const max = options.max ?? 1000;
  const name = sessionCookieName('portal-session', options.secure);
  const held = new Map<string, PortalSession>();

  const setCookie = (res: ServerResponse, value: string, maxAge: number) => setSessionCookie(res, name, value, { secure: options.secure, maxAge });

  function sweep(now: number): void {
    for (const [id, s] of held) if (s.expiresAt <= now) held.delete(id);
    while (held.size >= max) held.delete(held.keys().next().value!);
  }

  function issue(res: ServerResponse): PortalSession {
    const now = Date.now();
    sweep(now);
    const session: PortalSession = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), expiresAt: now + options.ttlSeconds * 1000 };
    held.set(session.id, session);
    setCookie(res, session.id, options.ttlSeconds);
    return session;
  }

  function read(req: IncomingMessage): PortalSession | undefined {
    const id = cookieValue(req.headers.cookie, name);
    const session = id ? held.get(id) : undefined;
    if (!session) return undefined;
    const now = Date.now();
    if (session.expiresAt <= now) { held.delete(session.id); return undefined; }
    if (session.pending && session.pending.startedAt + PENDING_MS <= now) session.pending = undefined;
    session.expiresAt = now + options.ttlSeconds * 1000;
    return session;
  }

  return {
    read,
    /** The request's session, or a new one (its cookie set on `res`). */
    ensure: (req: IncomingMessage, res: ServerResponse): PortalSession => read(req) ?? issue(res),
    /** A new session replacing `previous` (sign-in): a new id and CSRF token; the previous one ends. */
    renew(res: ServerResponse, previous: PortalSession): PortalSession {
      held.delete(previous.id);
      return issue(res);
    },
    end(res: ServerResponse, session: PortalSession): void {
      held.delete(session.id);
      setCookie(res, '', 0);
    },
    csrfOk: (session: PortalSession | undefined, token: string | undefined): boolean => session !== undefined && token !== undefined && sameText(token, session.csrf),
    /** Runs `task` after the session's previous task: two tabs never use one connection's tokens at once. */
    serial<T>(session: PortalSession, task: () => Promise<T>): Promise<T> {
      const run = (session.busy ?? Promise.resolve()).then(task, task);
      session.busy = run.catch(() => undefined);
      return run;
    },
  };
}
export type PortalSessions = ReturnType<typeof createPortalSessions>;
