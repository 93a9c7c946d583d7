import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Constant-time comparison of two strings (of any lengths). */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A session cookie's name: `__Host-` prefixed when the app is served over https (the cookie is then Secure, Path=/, host-only). */
export function sessionCookieName(base: string, secure: boolean): string {
  return secure ? `__Host-${base}` : base;
}

/**
 * Sets a session cookie: HttpOnly, SameSite=Lax (so the browser sends it on the top-level GET
 * back from Sekisho), Path=/, Secure when `secure`. `maxAge` 0 with an empty value removes it.
 */
export function setSessionCookie(res: ServerResponse, name: string, value: string, options: { secure: boolean; maxAge: number }): void {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', ...(options.secure ? ['Secure'] : []), `Max-Age=${options.maxAge}`];
  res.appendHeader('Set-Cookie', `${name}=${value}; ${attributes.join('; ')}`);
}
