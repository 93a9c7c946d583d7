import type { Context } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { html, page } from './html.ts';
import { pickLang, t } from './i18n.ts';

/**
 * oidc-provider's `renderError`: shown when an error cannot be redirected to the client (e.g. an
 * unregistered redirect_uri, O3). Only the error code and the library's safe description are shown.
 */
export async function renderProtocolError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, _error: Error): Promise<void> {
  const lang = pickLang({ cookie: ctx.cookies.get('lang'), acceptLanguage: ctx.get('accept-language') });
  ctx.type = 'html';
  ctx.body = page(lang, t(lang, 'error.title'), html`
<p>${t(lang, 'error.lead')}</p>
<p class="muted">${t(lang, 'error.code')}: <code>${out.error}</code></p>
${out.error_description ? html`<p class="muted">${out.error_description}</p>` : ''}`);
}

/** An error page for Sekisho's own pages: a message the person can act on and a code, nothing internal. */
export function errorPage(ctx: Context, status: number, code: string, message?: string): void {
  const lang = pickLang({ cookie: ctx.cookies.get('lang'), acceptLanguage: ctx.get('accept-language') });
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = page(lang, t(lang, 'error.title'), html`<p>${message ?? t(lang, 'error.lead')}</p><p class="muted">${t(lang, 'error.code')}: <code>${code}</code></p>`);
}
