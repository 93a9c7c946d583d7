import type { KoaContextWithOIDC } from 'oidc-provider';
import { html, Html, page } from './html.ts';
import { pickLang, t } from './i18n.ts';

const langOf = (ctx: KoaContextWithOIDC) => pickLang({ cookie: ctx.cookies.get('lang'), acceptLanguage: ctx.get('accept-language') });

/** RP-initiated logout confirmation. `form` is oidc-provider's hidden form (id op.logoutForm). */
export async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  const lang = langOf(ctx);
  ctx.type = 'html';
  ctx.body = page(lang, t(lang, 'logout.title'), html`
${new Html(form)}
<p>${t(lang, 'logout.lead')}</p>
<div class="actions">
  <button class="secondary" type="submit" form="op.logoutForm">${t(lang, 'logout.no')}</button>
  <button class="primary" type="submit" form="op.logoutForm" name="logout" value="yes">${t(lang, 'logout.yes')}</button>
</div>`);
}

export async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  const lang = langOf(ctx);
  ctx.type = 'html';
  ctx.body = page(lang, t(lang, 'logout.title'), html`<p>${t(lang, 'logout.done')}</p>`);
}
