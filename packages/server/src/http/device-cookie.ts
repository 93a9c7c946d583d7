import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

const NAME = 'sekisho.device';

/**
 * A long-lived random identifier per browser, so sign-in history can tell a new device from a
 * known one (new-device alerts). It identifies nothing else and is not a credential.
 */
export function deviceId(ctx: Context): string {
  const existing = ctx.cookies.get(NAME, { signed: true });
  if (existing && /^[A-Za-z0-9_-]{22}$/.test(existing)) return existing;
  const id = randomBytes(16).toString('base64url');
  ctx.cookies.set(NAME, id, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: 2 * 365 * 86400_000, overwrite: true });
  return id;
}
