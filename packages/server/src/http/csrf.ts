import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

/**
 * CSRF protection for our forms, in two layers: a token bound to the flow it belongs to
 * (HMAC of the interaction uid under a server secret) and, when the browser sends one, an
 * Origin header that must be our own. Cookies are SameSite=Lax on top of that.
 */
export function createCsrf(secret: string, issuer: string) {
  const origin = new URL(issuer).origin;
  const tokenFor = (binding: string) => createHmac('sha256', secret).update(`csrf:${binding}`).digest('base64url');
  return {
    tokenFor,
    verify(ctx: Context, binding: string, token: string | undefined): boolean {
      const requestOrigin = ctx.get('origin');
      if (requestOrigin && requestOrigin !== 'null' && requestOrigin !== origin) return false;
      if (requestOrigin === 'null') return false;
      if (!token) return false;
      const expected = Buffer.from(tokenFor(binding));
      const given = Buffer.from(token);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
export type Csrf = ReturnType<typeof createCsrf>;
