import type { Context } from 'koa';

/**
 * A multi-step flow's state (sign-up, recovery, account sign-in) in a signed, http-only cookie
 * limited to the flow's own path. `f` is the flow id the flow's CSRF tokens are bound to; `exp`
 * ends the flow however the cookie is kept.
 */
export interface FlowState { f: string; exp: number }

export function flowCookie<T extends FlowState>(name: string, path: string, seconds: number) {
  return {
    seconds,
    read(ctx: Context): T | undefined {
      const raw = ctx.cookies.get(name, { signed: true });
      if (!raw || raw.length > 4096) return undefined;
      try {
        const flow = JSON.parse(Buffer.from(raw, 'base64url').toString()) as T;
        return typeof flow.f === 'string' && typeof flow.exp === 'number' && flow.exp > Date.now() / 1000 ? flow : undefined;
      } catch {
        return undefined;
      }
    },
    write(ctx: Context, flow: T | null): void {
      ctx.cookies.set(name, flow ? Buffer.from(JSON.stringify(flow)).toString('base64url') : null, {
        signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, overwrite: true, path, maxAge: seconds * 1000,
      });
    },
  };
}
