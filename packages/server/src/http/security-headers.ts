import type { Context, Next } from 'koa';

/**
 * Security headers on every response. Pages get a strict CSP with `frame-ancestors 'none'`;
 * a page may widen `form-action` for the one redirect target it needs (see ctx.state.formAction),
 * and pages with a passkey ceremony allow our own script (ctx.state.scripts; no inline script ever).
 */
export function securityHeaders(options: { https: boolean }) {
  return async (ctx: Context, next: Next) => {
    // Set before the library runs: oidc-provider adds the hash of its own auto-submit script (the
    // account-switch and logout form posts) to a script-src that is already there
    // (helpers/script_src_sha.js). Without one, its page is blocked and the browser stops there.
    ctx.set('Content-Security-Policy', LIBRARY_BASELINE);
    await next();
    ctx.set('X-Content-Type-Options', 'nosniff');
    // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on our own form
    // posts, and the CSRF check needs the real origin. Nothing leaks to other sites either way.
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
    if (options.https || ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
    const current = ctx.response.get('Content-Security-Policy');
    if (current && current !== LIBRARY_BASELINE) {
      // The library added its script's hash: keep that policy, framing still refused.
      if (!/frame-ancestors/.test(current)) ctx.set('Content-Security-Policy', `${current}; frame-ancestors 'none'`);
      return;
    }
    const formAction = ["'self'", ...((ctx.state.formAction as string[] | undefined) ?? [])].join(' ');
    // The device app (a PWA) also talks to its own origin (live channel, passkey options, push
    // subscription), has a manifest and a service worker; its worker script may fetch its own origin.
    const app = ctx.state.deviceApp ? "connect-src 'self'; manifest-src 'self'; worker-src 'self'; " : '';
    ctx.set('Content-Security-Policy', ctx.response.is('html')
      ? `default-src 'none'; ${ctx.state.scripts ? "script-src 'self'; " : ''}${app}style-src 'self'; img-src 'self' data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`
      : ctx.state.deviceApp ? `default-src 'none'; ${app}frame-ancestors 'none'` : "default-src 'none'; frame-ancestors 'none'");
  };
}

const LIBRARY_BASELINE = "default-src 'none'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
