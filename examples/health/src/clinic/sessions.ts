import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Session {
  id: string;
  /** The CSRF token of this session's forms. */
  csrf: string;
  /** The signed-in doctor; absent before sign-in. */
  doctorId?: string;
}

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
 * Sessions in a signed cookie (`<id>.<HMAC(id)>`): HttpOnly, SameSite=Lax, Path=/. Signed-in
 * sessions are also held in memory, so signing out ends them; a session before sign-in is only
 * the signed id, so the sign-in page costs no memory. The CSRF token is HMAC(id): one per session,
 * nothing stored, and a new one after sign-in (a new session id).
 */
export function createSessions(options: SessionOptions) {
  const secret = options.secret ?? randomBytes(32);
  const max = options.max ?? 1000;
  const name = options.secure ? '__Host-clinic-session' : 'clinic-session';
  const signedIn = new Map<string, { doctorId: string; expiresAt: number }>();
  const mac = (purpose: string, id: string) => createHmac('sha256', secret).update(`${purpose}:${id}`).digest('base64url');

  function setCookie(res: ServerResponse, value: string, maxAge?: number): void {
    const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', ...(options.secure ? ['Secure'] : []), ...(maxAge !== undefined ? [`Max-Age=${maxAge}`] : [])];
    res.appendHeader('Set-Cookie', `${name}=${value}; ${attributes.join('; ')}`);
  }

  function issue(res: ServerResponse): Session {
    const id = randomBytes(24).toString('base64url');
    setCookie(res, `${id}.${mac('sid', id)}`, options.ttlSeconds);
    return { id, csrf: mac('csrf', id) };
  }

  function read(req: IncomingMessage): Session | undefined {
    const value = cookieValue(req.headers.cookie, name);
    const [id, signature, extra] = value?.split('.') ?? [];
    if (!id || !signature || extra !== undefined || !sameText(signature, mac('sid', id))) return undefined;
    const held = signedIn.get(id);
    if (held && held.expiresAt <= Date.now()) signedIn.delete(id);
    const live = held && held.expiresAt > Date.now() ? held : undefined;
    return { id, csrf: mac('csrf', id), ...(live ? { doctorId: live.doctorId } : {}) };
  }

  return {
    read,
    /** The request's session, or a new one before sign-in (its cookie set on `res`). */
    ensure: (req: IncomingMessage, res: ServerResponse): Session => read(req) ?? issue(res),
    /** A new session for the doctor (a new id: a session fixed before sign-in is useless after it). */
    signIn(res: ServerResponse, previous: Session | undefined, doctorId: string): Session {
      if (previous) signedIn.delete(previous.id);
      const now = Date.now();
      for (const [id, s] of signedIn) if (s.expiresAt <= now) signedIn.delete(id);
      while (signedIn.size >= max) signedIn.delete(signedIn.keys().next().value!);
      const session = issue(res);
      signedIn.set(session.id, { doctorId, expiresAt: now + options.ttlSeconds * 1000 });
      return { ...session, doctorId };
    },
    signOut(res: ServerResponse, session: Session): void {
      signedIn.delete(session.id);
      setCookie(res, '', 0);
    },
    csrfOk: (session: Session | undefined, token: string | null): boolean => session !== undefined && token !== null && sameText(token, session.csrf),
  };
}
export type Sessions = ReturnType<typeof createSessions>;

/** Constant-time comparison of two strings (of any lengths). */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
