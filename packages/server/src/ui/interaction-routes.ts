import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Accounts } from '../identity/accounts.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Csrf } from '../http/csrf.ts';
import { readForm, FormBodyError } from '../http/form-body.ts';
import { ACR } from '../protocol/claims-catalogue.ts';
import { html, page } from './html.ts';
import { pickLang, t, type Lang } from './i18n.ts';
import { loginPage } from './login-page.ts';
import { consentPage } from './consent-page.ts';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm|abort))?$/;

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/**
 * Sign-in and consent: a client of oidc-provider's interaction step. These routes never touch
 * token tables; they finish the interaction with a result and the provider does the rest.
 */
export function interactionRoutes(deps: { provider: Provider; accounts: Accounts; audit: AuditLog; csrf: Csrf }) {
  const { provider, accounts, audit, csrf } = deps;

  return async function handle(ctx: Context, next: Next) {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match as unknown as [string, string, string | undefined];
    ctx.set('Cache-Control', 'no-store');

    let details: Details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      return errorPage(ctx, 400, 'invalid_request');
    }
    if (details.uid !== uid) return errorPage(ctx, 400, 'invalid_request');

    const lang = languageFor(ctx, details);
    const redirectUri = details.params.redirect_uri;
    if (typeof redirectUri === 'string' && URL.canParse(redirectUri)) ctx.state.formAction = [new URL(redirectUri).origin];
    const client = await provider.Client.find(String(details.params.client_id));
    const clientName = String(client?.clientName ?? details.params.client_id);
    const token = csrf.tokenFor(uid);

    if (!action) {
      if (ctx.method !== 'GET') return errorPage(ctx, 405, 'invalid_request');
      return render(ctx, await viewFor(lang, details, clientName, token));
    }
    if (ctx.method !== 'POST') return errorPage(ctx, 405, 'invalid_request');

    let form: Partial<Record<'csrf' | 'username' | 'password', string>>;
    try {
      form = await readForm(ctx, ['csrf', 'username', 'password'] as const);
    } catch (err) {
      return errorPage(ctx, err instanceof FormBodyError ? err.status : 400, 'invalid_request');
    }
    if (!csrf.verify(ctx, uid, form.csrf)) {
      audit.recordInBackground({ type: 'csrf.rejected', outcome: 'failure', ip: ctx.ip, details: { path: ctx.path } });
      return errorPage(ctx, 403, 'invalid_request', t(lang, 'error.csrf'));
    }

    const clientId = String(details.params.client_id);
    if (action === 'abort') {
      audit.recordInBackground({ type: details.prompt.name === 'login' ? 'login.cancelled' : 'consent.denied', outcome: 'failure', clientId, subject: details.session?.accountId, ip: ctx.ip });
      return finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
    }

    if (action === 'login') {
      if (details.prompt.name !== 'login') return errorPage(ctx, 400, 'invalid_request');
      const username = (form.username ?? '').trim();
      const password = form.password ?? '';
      if (!username || !password || username.length > 100 || password.length > 256) {
        return render(ctx, loginPage(lang, { uid, clientName, csrf: token, username: username.slice(0, 100), error: t(lang, 'login.invalid') }), 400);
      }
      const account = await accounts.authenticate(username, password);
      if (!account) {
        audit.recordInBackground({ type: 'login.failure', outcome: 'failure', clientId, ip: ctx.ip, details: { method: 'pwd' } });
        return render(ctx, loginPage(lang, { uid, clientName, csrf: token, username, error: t(lang, 'login.failed') }), 401);
      }
      audit.recordInBackground({ type: 'login.success', outcome: 'success', clientId, subject: account.id, ip: ctx.ip, details: { method: 'pwd', acr: ACR.aal1 } });
      if (!passwordSatisfies(details)) {
        // A password reaches AAL1 only; a request that insists on more cannot be met here.
        return finish(ctx, { error: 'unmet_authentication_requirements', error_description: 'the requested authentication assurance level cannot be met' });
      }
      return finish(ctx, { login: { accountId: account.id, acr: ACR.aal1, amr: ['pwd'], remember: true } });
    }

    // confirm
    if (details.prompt.name !== 'consent' || !details.session) return errorPage(ctx, 400, 'invalid_request');
    const grantId = await recordConsent(provider, details);
    audit.recordInBackground({
      type: 'consent.granted', outcome: 'success', clientId, subject: details.session.accountId, ip: ctx.ip,
      details: { grantId, scope: details.params.scope, resources: Object.keys((details.prompt.details.missingResourceScopes as object | undefined) ?? {}) },
    });
    return finish(ctx, { consent: { grantId } }, true);
  };

  async function viewFor(lang: Lang, details: Details, clientName: string, token: string): Promise<string> {
    if (details.prompt.name === 'login') return loginPage(lang, { uid: details.uid, clientName, csrf: token });
    const account = details.session ? await accounts.findById(details.session.accountId) : undefined;
    const d = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    return consentPage(lang, {
      uid: details.uid, csrf: token, clientName, username: account?.username ?? '',
      scopes: d.missingOIDCScope ?? [],
      claims: (d.missingOIDCClaims ?? []).filter((c) => !['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'].includes(c)),
      resources: Object.entries(d.missingResourceScopes ?? {}).map(([resource, scopes]) => ({ resource, scopes })),
    });
  }

  async function finish(ctx: Context, result: InteractionResults, merge = false) {
    const target = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(target);
  }
}

/** Creates or extends the grant with exactly what the consent page showed as missing. */
async function recordConsent(provider: Provider, details: Details): Promise<string> {
  const { session, params, prompt } = details;
  const accountId = session!.accountId;
  const clientId = String(params.client_id);
  const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined)
    ?? new provider.Grant({ accountId, clientId });
  const d = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  return grant.save();
}

/** True unless the request asks (by acr_values or an essential acr claim) only for levels above AAL1. */
function passwordSatisfies(details: Details): boolean {
  const requested = new Set<string>();
  const acrValues = details.params.acr_values;
  if (typeof acrValues === 'string') for (const v of acrValues.split(' ').filter(Boolean)) requested.add(v);
  const claims = typeof details.params.claims === 'string' ? safeJson(details.params.claims) : undefined;
  const acrClaim = (claims as { id_token?: { acr?: { essential?: boolean; value?: string; values?: string[] } } } | undefined)?.id_token?.acr;
  if (acrClaim?.essential) {
    if (acrClaim.value) requested.add(acrClaim.value);
    for (const v of acrClaim.values ?? []) requested.add(v);
  }
  return requested.size === 0 || requested.has(ACR.aal1);
}

function safeJson(s: string): unknown {
  try { return JSON.parse(s); } catch { return undefined; }
}

function languageFor(ctx: Context, details: Details): Lang {
  const query = typeof ctx.query.lang === 'string' ? ctx.query.lang : undefined;
  if (query === 'ja' || query === 'en') ctx.cookies.set('lang', query, { httpOnly: true, sameSite: 'lax', signed: false, maxAge: 365 * 86400_000 });
  return pickLang({
    query, cookie: ctx.cookies.get('lang'),
    uiLocales: typeof details.params.ui_locales === 'string' ? details.params.ui_locales : undefined,
    acceptLanguage: ctx.get('accept-language'),
  });
}

function render(ctx: Context, body: string, status = 200) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

function errorPage(ctx: Context, status: number, code: string, message?: string) {
  const lang = pickLang({ cookie: ctx.cookies.get('lang'), acceptLanguage: ctx.get('accept-language') });
  render(ctx, page(lang, t(lang, 'error.title'), html`<p>${message ?? t(lang, 'error.lead')}</p><p class="muted">${t(lang, 'error.code')}: <code>${code}</code></p>`), status);
}
