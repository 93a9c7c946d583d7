import type { Context } from 'koa';

/** A sign-in finished elsewhere on this site, handed to one authorization request's pages. */
export interface Handoff { accountId: string; acr: string; amr: string[] }

const NAME = 'sekisho.handoff';
const SECONDS = 120;
const options = (ctx: Context, uid: string) => ({
  signed: true, httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, overwrite: true, path: `/interaction/${uid}`,
});

export function setHandoff(ctx: Context, uid: string, h: Handoff): void {
  const value = Buffer.from(JSON.stringify({ ...h, exp: Math.floor(Date.now() / 1000) + SECONDS })).toString('base64url');
  ctx.cookies.set(NAME, value, { ...options(ctx, uid), maxAge: SECONDS * 1000 });
}

/** Reads and clears the handoff for this request; undefined when absent, forged or expired. */
export function takeHandoff(ctx: Context, uid: string): Handoff | undefined {
  const raw = ctx.cookies.get(NAME, { signed: true });
  if (!raw) return undefined;
  ctx.cookies.set(NAME, null, options(ctx, uid));
  try {
    const h = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Handoff & { exp?: number };
    const valid = typeof h.accountId === 'string' && typeof h.acr === 'string' && Array.isArray(h.amr) && typeof h.exp === 'number' && h.exp > Date.now() / 1000;
    return valid ? { accountId: h.accountId, acr: h.acr, amr: h.amr.filter((m): m is string => typeof m === 'string') } : undefined;
  } catch {
    return undefined;
  }
}
