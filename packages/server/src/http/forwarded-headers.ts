import type { Context, Next } from 'koa';
import { normaliseAddress } from '../protocol/mtls.ts';

/**
 * With trustProxy on, Koa believes X-Forwarded-Proto/Host/For from any peer. When the trusted proxy
 * addresses are known, strip those headers from everyone else, so a client that reaches the server
 * directly cannot pretend to be on https or on another host.
 */
export function forwardedHeadersOnlyFromProxies(trustedProxies: string[]) {
  const trusted = new Set(trustedProxies.map(normaliseAddress));
  return async (ctx: Context, next: Next) => {
    if (trusted.size && !trusted.has(normaliseAddress(ctx.req.socket.remoteAddress ?? ''))) {
      for (const name of Object.keys(ctx.req.headers)) if (name.startsWith('x-forwarded-')) delete ctx.req.headers[name];
    }
    return next();
  };
}
