import type { Context, Next } from 'koa';
import type { Catalogue } from '../consent/catalogue.ts';
import type { ConsentNotices } from '../consent/notices.ts';
import type { Lang } from './i18n.ts';
import { languageOf } from './language.ts';
import { noticeNotFoundPage, noticePage } from './notice-page.ts';

// A client_id is 1–255 printable ASCII characters, percent-encoded in the path (at most 3 bytes each).
const ROUTE = /^\/notices\/([^/]{1,765})(?:\/([1-9][0-9]{0,8}))?$/;
const CLIENT_ID = /^[\x21-\x7e]{1,255}$/;

/** Where a notice is read: a version's own page, or the current version's when none is given. */
export function noticeHref(clientId: string, version?: number): string {
  return `/notices/${encodeURIComponent(clientId)}${version === undefined ? '' : `/${version}`}`;
}

/** An item in words, from the catalogue: scope:accounts → "See your account balances…". */
function labeller(lang: Lang, catalogue: Catalogue | undefined, detailTypes: DetailLabels | undefined) {
  return (item: string) => {
    const at = item.indexOf(':');
    const kind = item.slice(0, at);
    const name = item.slice(at + 1);
    if (kind === 'authorization_details') return detailTypes?.get(name)?.label.short[lang] ?? name;
    if (!catalogue) return name;
    return (kind === 'scope' ? catalogue.scope(name) : catalogue.claim(name)).short[lang];
  };
}

/** The labels of the authorization_details types (consent/authorization-details/registry.ts). */
interface DetailLabels { get(type: string): { label: { short: Record<Lang, string> } } | undefined }

/**
 * The public notice pages: GET /notices/<client_id>/<version> shows that version (the link the
 * consent screen and the consent history give), /notices/<client_id> the current one. Anything
 * unknown or malformed under /notices is a 404 page. `operator` is the organisation running this
 * server (config.consent.controller): the page says the client is a third party, not it.
 */
export function noticeRoutes(deps: { notices: ConsentNotices; operator: string; catalogue?: Catalogue | undefined; detailTypes?: DetailLabels | undefined }) {
  const { notices } = deps;
  return async function handle(ctx: Context, next: Next) {
    if (ctx.path !== '/notices' && !ctx.path.startsWith('/notices/')) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    const lang = languageOf(ctx);
    const other = lang === 'ja' ? 'en' : 'ja';
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Vary', 'Accept-Language, Cookie');
    ctx.type = 'html';

    const match = ROUTE.exec(ctx.path);
    let clientId: string | undefined;
    try { clientId = match ? decodeURIComponent(match[1]!) : undefined; } catch { clientId = undefined; }
    const current = clientId && CLIENT_ID.test(clientId) ? await notices.current(clientId) : undefined;
    const version = match?.[2] === undefined ? current?.version : Number(match[2]);
    const notice = current && version !== undefined && version !== current.version ? await notices.get(clientId!, version) : current;
    if (!clientId || !current || !notice) {
      ctx.status = 404;
      ctx.body = noticeNotFoundPage(lang, `?lang=${other}`);
      return;
    }
    const self = match?.[2] === undefined ? noticeHref(clientId) : noticeHref(clientId, notice.version);
    ctx.body = noticePage(lang, {
      notice, current: current.version, operator: deps.operator, itemLabel: labeller(lang, deps.catalogue, deps.detailTypes),
      currentHref: noticeHref(clientId), langSwitchHref: `${self}?lang=${other}`,
    });
  };
}
