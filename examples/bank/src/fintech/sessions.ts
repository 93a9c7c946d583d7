import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Options of {@link createSessions}. */
export interface SessionOptions {
  /** Cookies are `Secure` and `__Host-` prefixed when the app is served over https. */
  secure: boolean;
  /** How long a browser keeps its session (and its bank connection) without a visit. */
  ttlSeconds: number;
  /** Sessions holding state at most; past it the least recently used ends. */
  max?: number;
  /** HMAC key for cookies and CSRF tokens; default: random, so sessions end with the process. */
  secret?: Buffer;
}

/** One browser's session. */
export interface Session<T> {
  id: string;
  /** The CSRF token of this session's forms: HMAC(id), nothing stored. */
  csrf: string;
  /** What the app keeps for this browser (its bank connection…); absent until it keeps something. */
  state?: T;
}

/**
 * Sessions of people using the fintech app, in a signed cookie (`<id>.<HMAC(id)>`): HttpOnly,
 * SameSite=Lax (so the browser sends it on the top-level GET back from Sekisho), Path=/. The
 * example has no accounts of its own: a browser is a person, and what it holds (the bank
 * connection, the tokens) stays in this process's memory, keyed by the session id; the cookie
 * holds no token. A session costs memory only once it holds something. `rotate` gives the state a
 * new id (after the person connects their bank: an id fixed before is useless after).
 */
export function createSessions<T>(options: SessionOptions) {
  const secret = options.secret ?? randomBytes(32);
  const max = options.max ?? 1000;
  const name = options.secure ? '__Host-fintech-session' : 'fintech-session';
  const held = new Map<string, { state: T; expiresAt: number }>();
  const mac = (purpose: string, id: string) => createHmac('sha256', secret).update(`${purpose}:${id}`).digest('base64url');

  function setCookie(res: ServerResponse, value: string, maxAge: number): void {
    const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', ...(options.secure ? ['Secure'] : []), `Max-Age=${maxAge}`];
    res.appendHeader('Set-Cookie', `${name}=${value}; ${attributes.join('; ')}`);
  }

  function issue(res: ServerResponse): Session<T> {
    const id = randomBytes(24).toString('base64url');
    setCookie(res, `${id}.${mac('sid', id)}`, options.ttlSeconds);
    return { id, csrf: mac('csrf', id) };
  }

  function read(req: IncomingMessage): Session<T> | undefined {
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
    read,
    /** The request's session, or a new one (its cookie set on `res`). */
    ensure: (req: IncomingMessage, res: ServerResponse): Session<T> => read(req) ?? issue(res),
    /** Keeps `state` for the session (and renews its lifetime). */
    save(session: Session<T>, state: T): void {
      store(session.id, state);
      session.state = state;
    },
    /** The same state under a new session id and cookie; the old id holds nothing any more. */
    rotate(res: ServerResponse, session: Session<T>): Session<T> {
      const next = issue(res);
      if (session.state !== undefined) store(next.id, session.state);
      held.delete(session.id);
      return { ...next, ...(session.state !== undefined ? { state: session.state } : {}) };
    },
    csrfOk: (session: Session<T> | undefined, token: string | undefined): boolean => session !== undefined && token !== undefined && sameText(token, session.csrf),
  };
}
export type Sessions<T> = ReturnType<typeof createSessions<T>>;

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
