import type { Context, Next } from 'koa';

/**
 * Security headers on every response. Pages get a strict CSP with `frame-ancestors 'none'`;
 * a page may widen `form-action` for the one redirect target it needs (see ctx.state.formAction),
 * and pages with a passkey ceremony allow our own script (ctx.state.scripts; no inline script ever).
 */
export function securityHeaders(options: { https: boolean }) {
  return async (ctx: Context, next: Next) => {
    await next();
    ctx.set('X-Content-Type-Options', 'nosniff');
    // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on our own form
    // posts, and the CSRF check needs the real origin. Nothing leaks to other sites either way.
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
    if (options.https || ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
    const formAction = ["'self'", ...((ctx.state.formAction as string[] | undefined) ?? [])].join(' ');
    const csp = ctx.response.is('html')
      ? `default-src 'none'; ${ctx.state.scripts ? "script-src 'self'; " : ''}style-src 'self'; img-src 'self' data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`
      : "default-src 'none'; frame-ancestors 'none'";
    // oidc-provider's form_post and JARM pages set their own CSP with a script hash; keep it.
    if (!ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', csp);
    else if (!/frame-ancestors/.test(ctx.response.get('Content-Security-Policy'))) {
      ctx.set('Content-Security-Policy', `${ctx.response.get('Content-Security-Policy')}; frame-ancestors 'none'`);
    }
  };
}
