import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cookieValue, sameText, sessionCookieName, setSessionCookie } from './cookies.ts';

/** Options of {@link createCookieSessions}. */
export interface CookieSessionOptions {
  /** The cookie's name; `__Host-` is put before it when `secure`. */
  cookie: string;
  /** Cookies are `Secure` and `__Host-` prefixed when the app is served over https. */
  secure: boolean;
  /** The cookie's lifetime, and how long what a session holds is kept after it was last saved. */
  ttlSeconds: number;
  /** Sessions holding state at most; past it the least recently saved ends. Default 1000. */
  max?: number;
  /** HMAC key for cookies and CSRF tokens; default: random, so sessions end with the process. */
  secret?: Buffer;
}

/** One browser's session. */
export interface CookieSession<T> {
  id: string;
  /** The CSRF token of this session's forms: HMAC(id), nothing stored. */
  csrf: string;
  /** What the app keeps for this browser; absent until it keeps something. */
  state?: T;
}

/**
 * Sessions in a signed cookie (`<id>.<HMAC(id)>`, see setSessionCookie for its attributes). What a
 * session holds stays in this process's memory, keyed by the id; the cookie holds nothing else.
 * A session costs memory only once it holds something, so a page before sign-in costs none. The
 * CSRF token is HMAC(id): one per session, nothing stored. `rotate` gives a session a new id
 * (after signing in or connecting: an id fixed before is useless after).
 */
export function createCookieSessions<T>(options: CookieSessionOptions) {
  const secret = options.secret ?? randomBytes(32);
  const max = options.max ?? 1000;
  const name = sessionCookieName(options.cookie, options.secure);
  const held = new Map<string, { state: T; expiresAt: number }>();
  const mac = (purpose: string, id: string) => createHmac('sha256', secret).update(`${purpose}:${id}`).digest('base64url');

  function issue(res: ServerResponse): CookieSession<T> {
    const id = randomBytes(24).toString('base64url');
    setSessionCookie(res, name, `${id}.${mac('sid', id)}`, { secure: options.secure, maxAge: options.ttlSeconds });
    return { id, csrf: mac('csrf', id) };
  }

  function read(req: IncomingMessage): CookieSession<T> | undefined {
    const value = cookieValue(req.headers.cookie, name);
    const [id, signature, extra] = value?.split('.') ?? [];
    if (!id || !signature || extra !== undefined || !sameText(signature, mac('sid', id))) return undefined;
    const entry = held.get(id);
    if (entry && entry.expiresAt <= Date.now()) held.delete(id);
    const live = entry && entry.expiresAt > Date.now() ? entry : undefined;
    return { id, csrf: mac('csrf', id), ...(live ? { state: live.state } : {}) };
  }

  function store(id: string, state: T): void {
    const now = Date.now();
    held.delete(id);
    if (held.size >= max) {
      for (const [k, e] of held) if (e.expiresAt <= now) held.delete(k);
      while (held.size >= max) held.delete(held.keys().next().value!);
    }
    // Re-inserted last: the map's order is least recently stored first.
    held.set(id, { state, expiresAt: now + options.ttlSeconds * 1000 });
  }

  return {
    /** The request's session, when its cookie is one of ours. */
    read,
    /** The request's session, or a new one (its cookie set on `res`). */
    ensure: (req: IncomingMessage, res: ServerResponse): CookieSession<T> => read(req) ?? issue(res),
    /** Keeps `state` for the session (and renews its lifetime). */
    save(session: CookieSession<T>, state: T): void {
      store(session.id, state);
      session.state = state;
    },
    /**
     * A new session id and cookie holding `state` (by default what `previous` held); the previous
     * id holds nothing any more.
     */
    rotate(res: ServerResponse, previous: CookieSession<T> | undefined, state: T | undefined = previous?.state): CookieSession<T> {
      if (previous) held.delete(previous.id);
      const next = issue(res);
      if (state !== undefined) store(next.id, state);
      return { ...next, ...(state !== undefined ? { state } : {}) };
    },
    /** Forgets the session and removes its cookie (signing out). */
    end(res: ServerResponse, session: CookieSession<T>): void {
      held.delete(session.id);
      setSessionCookie(res, name, '', { secure: options.secure, maxAge: 0 });
    },
    /** Whether `token` is the session's CSRF token (compared in constant time). */
    csrfOk: (session: CookieSession<T> | undefined, token: string | undefined): boolean => session !== undefined && token !== undefined && sameText(token, session.csrf),
  };
}
export type CookieSessions<T> = ReturnType<typeof createCookieSessions<T>>;
