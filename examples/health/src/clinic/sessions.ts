import type { IncomingMessage, ServerResponse } from 'node:http';
import { createCookieSessions, type CookieSession } from '@sekisho/example-kit/sessions';

/** A browser's session at the clinic. */
export interface Session {
  id: string;
  /** The CSRF token of this session's forms. */
  csrf: string;
  /** The signed-in doctor; absent before sign-in. */
  doctorId?: string;
}

/** Options of {@link createSessions}. */
export interface SessionOptions {
  /** Cookies are `Secure` and `__Host-` prefixed when the app is served over https. */
  secure: boolean;
  ttlSeconds: number;
  /** Signed-in sessions held at most; past it the oldest ends. */
  max?: number;
  /** HMAC key for cookies and CSRF tokens; default: random, so sessions end with the process. */
  secret?: Buffer;
}

/**
 * The clinic's sessions: the kit's signed-cookie sessions, holding the signed-in doctor's id. A
 * session before sign-in is only the signed id, so the sign-in page costs no memory; signing in
 * gives a new id (and so a new CSRF token); signing out forgets the session.
 */
export function createSessions(options: SessionOptions) {
  const sessions = createCookieSessions<string>({ ...options, cookie: 'clinic-session' });
  const clinicSession = (s: CookieSession<string>): Session => ({ id: s.id, csrf: s.csrf, ...(s.state !== undefined ? { doctorId: s.state } : {}) });
  const held = (s: Session): CookieSession<string> => ({ id: s.id, csrf: s.csrf, ...(s.doctorId !== undefined ? { state: s.doctorId } : {}) });

  return {
    read(req: IncomingMessage): Session | undefined {
      const session = sessions.read(req);
      return session && clinicSession(session);
    },
    /** The request's session, or a new one before sign-in (its cookie set on `res`). */
    ensure: (req: IncomingMessage, res: ServerResponse): Session => clinicSession(sessions.ensure(req, res)),
    /** A new session for the doctor (a new id: a session fixed before sign-in is useless after it). */
    signIn: (res: ServerResponse, previous: Session | undefined, doctorId: string): Session => clinicSession(sessions.rotate(res, previous && held(previous), doctorId)),
    signOut(res: ServerResponse, session: Session): void {
      sessions.end(res, held(session));
    },
    csrfOk: (session: Session | undefined, token: string | null): boolean => sessions.csrfOk(session && held(session), token ?? undefined),
  };
}
export type Sessions = ReturnType<typeof createSessions>;
