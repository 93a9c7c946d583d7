import type { Context } from 'koa';
import { pickLang, type Lang } from './i18n.ts';

/**
 * The page language: `?lang=` (remembered in a cookie), the cookie, OIDC `ui_locales` when a
 * request carries them, then Accept-Language.
 */
export function languageOf(ctx: Context, uiLocales?: string): Lang {
  const query = typeof ctx.query.lang === 'string' ? ctx.query.lang : undefined;
  if (query === 'ja' || query === 'en') ctx.cookies.set('lang', query, { httpOnly: true, sameSite: 'lax', signed: false, maxAge: 365 * 86400_000 });
  return pickLang({ query, cookie: ctx.cookies.get('lang'), uiLocales, acceptLanguage: ctx.get('accept-language') });
}
