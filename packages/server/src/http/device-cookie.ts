import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

const NAME = 'sekisho.device';

/**
 * A long-lived random identifier per browser, so sign-in history can tell a new device from a
 * known one (new-device alerts). It identifies nothing else and is not a credential.
 */
export function deviceId(ctx: Context): string {
  // Minted once per request: a first visit must not record one id and set another in the cookie.
  if (typeof ctx.state.deviceId === 'string') return ctx.state.deviceId;
  const existing = ctx.cookies.get(NAME, { signed: true });
  if (existing && /^[A-Za-z0-9_-]{22}$/.test(existing)) return (ctx.state.deviceId = existing);
  const id = randomBytes(16).toString('base64url');
  ctx.state.deviceId = id;
  ctx.cookies.set(NAME, id, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: 2 * 365 * 86400_000, overwrite: true });
  return id;
}
