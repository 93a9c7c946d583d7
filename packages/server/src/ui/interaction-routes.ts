import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Accounts } from '../identity/accounts.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Csrf } from '../http/csrf.ts';
import { readForm, FormBodyError } from '../http/form-body.ts';
import { html, page } from './html.ts';
import { pickLang, t, type Lang } from './i18n.ts';
import { languageOf } from './language.ts';
import { createSignInRoutes, type SignInRouteDeps } from './sign-in-routes.ts';
import { randomBytes } from 'node:crypto';
import { consentPage, type ConsentView } from './consent-page.ts';
import { DecisionAlreadyRecordedError, type ConsentLedger, type ConsentScope } from '../consent/ledger.ts';
import type { Catalogue } from '../consent/catalogue.ts';
import { CONSENTED_PREFIX, consentedVerifiedClaims, verifiedClaimsAskedFor } from '../identity/verified-claims.ts';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|passkey|otp|confirm|abort|continue))?$/;

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/**
 * Sign-in and consent: a client of oidc-provider's interaction step. These routes never touch
 * token tables; they finish the interaction with a result and the provider does the rest.
 */
export function interactionRoutes(deps: SignInRouteDeps & { accounts: Accounts; audit: AuditLog; csrf: Csrf; ledger: ConsentLedger; catalogue: Catalogue }) {
  const { provider, accounts, audit, csrf, ledger } = deps;
  const signInRoutes = createSignInRoutes(deps);

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

    if (action === 'continue') {
      // After sign-up or recovery elsewhere on this site: the browser is now signed in.
      if (ctx.method !== 'GET' || details.prompt.name !== 'login') return errorPage(ctx, 400, 'invalid_request');
      return signInRoutes.continueWithSession({ ctx, details, lang, clientName, csrf: token, form: {} });
    }
    if (!action) {
      if (ctx.method !== 'GET') return errorPage(ctx, 405, 'invalid_request');
      if (details.prompt.name === 'login') return signInRoutes.show({ ctx, details, lang, clientName, csrf: token, form: {} });
      return render(ctx, consentPage(lang, { uid: details.uid, csrf: token, ...(await consentShown(details, clientName)) }, deps.catalogue));
    }
    if (ctx.method !== 'POST') return errorPage(ctx, 405, 'invalid_request');

    let form: Partial<Record<'csrf' | 'username' | 'password' | 'code' | 'credential', string>>;
    try {
      form = await readForm(ctx, ['csrf', 'username', 'password', 'code', 'credential'] as const);
    } catch (err) {
      return errorPage(ctx, err instanceof FormBodyError ? err.status : 400, 'invalid_request');
    }
    if (!csrf.verify(ctx, uid, form.csrf)) {
      audit.recordInBackground({ type: 'csrf.rejected', outcome: 'failure', ip: ctx.ip, details: { path: ctx.path } });
      return errorPage(ctx, 403, 'invalid_request', t(lang, 'error.csrf'));
    }

    const clientId = String(details.params.client_id);
    const decided = details.result as { consent?: unknown; error?: unknown } | undefined;
    if (details.prompt.name === 'consent' && (decided?.consent || decided?.error)) {
      // Posted again (a double click, the back button): the decision stands, once in the ledger.
      return redirectToResume(ctx, details);
    }
    if (action === 'abort') {
      audit.recordInBackground({ type: details.prompt.name === 'login' ? 'login.cancelled' : 'consent.denied', outcome: 'failure', clientId, subject: details.session?.accountId, ip: ctx.ip });
      if (details.prompt.name === 'consent' && details.session) {
        // A denial is a decision too: the ledger keeps it, with what was shown (once per screen).
        const shown = await consentShown(details, clientName);
        const recorded = await ledger.append({
          subject: details.session.accountId, clientId, ...(details.grantId ? { grantId: details.grantId } : {}),
          action: details.grantId ? 'merge' : 'create', decision: 'denied', channel: 'web', shown,
          requested: partsOf(shown), granted: { scopes: [], claims: [], resources: {}, authorizationDetails: [] },
          context: decisionContext(ctx, details, lang),
        }).catch(alreadyDecided);
        if (!recorded) return redirectToResume(ctx, details);
      }
      return finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
    }

    if (action === 'login' || action === 'passkey' || action === 'otp') {
      if (details.prompt.name !== 'login') return errorPage(ctx, 400, 'invalid_request');
      const step = { ctx, details, lang, clientName, csrf: token, form };
      if (action === 'login') return signInRoutes.password(step);
      if (action === 'otp') return signInRoutes.oneTimeCode(step);
      return signInRoutes.passkey(step);
    }

    // confirm
    if (details.prompt.name !== 'consent' || !details.session) return errorPage(ctx, 400, 'invalid_request');
    const shown = await consentShown(details, clientName);
    const grant = await grantFor(provider, details);
    // The decision is recorded first: of two posts racing each other, only one gets a record, and
    // only that one changes the grant.
    const recorded = await ledger.append({
      subject: details.session.accountId, clientId, grantId: grant.jti, action: details.grantId ? 'merge' : 'create', decision: 'approved', channel: 'web',
      shown, requested: partsOf(shown), granted: partsOf(shown), context: decisionContext(ctx, details, lang),
    }).catch(alreadyDecided);
    if (!recorded) return redirectToResume(ctx, details);
    const grantId = await recordConsent(grant, details, (shown.verifiedClaims ?? []).map((c) => c.claim));
    audit.recordInBackground({
      type: 'consent.granted', outcome: 'success', clientId, subject: details.session.accountId, ip: ctx.ip,
      details: { grantId, scope: details.params.scope, resources: Object.keys((details.prompt.details.missingResourceScopes as object | undefined) ?? {}) },
    });
    return finish(ctx, { consent: { grantId } }, true);
  };

  /** What the consent page shows (and the ledger hashes): who asks, which account, what. */
  async function consentShown(details: Details, clientName: string): Promise<Omit<ConsentView, 'uid' | 'csrf'>> {
    const account = details.session ? await accounts.findById(details.session.accountId) : undefined;
    const d = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    // The verified claims asked for that this client was not allowed before (each is consented by name).
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const allowed = new Set(consentedVerifiedClaims((grant as { openid?: { claims?: string[] } } | undefined)?.openid?.claims));
    const verifiedClaims = verifiedClaimsAskedFor(details.params.claims).filter((c) => !allowed.has(c.claim));
    return {
      clientName, username: account?.username ?? '',
      scopes: d.missingOIDCScope ?? [],
      claims: (d.missingOIDCClaims ?? []).filter((c) => !['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss', 'verified_claims'].includes(c)),
      verifiedClaims,
      resources: Object.entries(d.missingResourceScopes ?? {}).map(([resource, scopes]) => ({ resource, scopes })),
    };
  }

  async function finish(ctx: Context, result: InteractionResults, merge = false) {
    const target = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(target);
  }
}

/** The grant parts a consent page showed, in the ledger's terms. */
function partsOf(shown: Omit<ConsentView, 'uid' | 'csrf'>): ConsentScope {
  return {
    scopes: shown.scopes,
    claims: [...shown.claims, ...(shown.verifiedClaims ?? []).map((c) => `${CONSENTED_PREFIX}${c.claim}`)],
    resources: Object.fromEntries(shown.resources.map((r) => [r.resource, r.scopes])),
    authorizationDetails: [],
  };
}

/** Where a decision was made; no secrets (the ledger is kept for years). */
function decisionContext(ctx: Context, details: Details, lang: Lang): Record<string, unknown> {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent').slice(0, 300), acr: details.session?.acr, lang, interaction: details.uid };
}

/** The request's grant, or a new one with its id chosen now (the ledger names it before it is saved). */
async function grantFor(provider: Provider, details: Details): Promise<InstanceType<Provider['Grant']> & { jti: string }> {
  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  if (existing) return existing as InstanceType<Provider['Grant']> & { jti: string };
  // High entropy and nothing personal: it is also the grant_id clients will see.
  return new provider.Grant({ jti: randomBytes(32).toString('base64url'), accountId: details.session!.accountId, clientId: String(details.params.client_id) } as never) as InstanceType<Provider['Grant']> & { jti: string };
}

/** Null when the screen already had its decision (a racing post); anything else is rethrown. */
function alreadyDecided(err: unknown): null {
  if (err instanceof DecisionAlreadyRecordedError) return null;
  throw err;
}

function redirectToResume(ctx: Context, details: Details) {
  ctx.status = 303;
  ctx.redirect(details.returnTo);
}

/** Extends the grant with exactly what the consent page showed as missing. */
async function recordConsent(grant: InstanceType<Provider['Grant']>, details: Details, verifiedClaimNames: readonly string[]): Promise<string> {
  const { prompt } = details;
  const d = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  // The verified claims allowed, by name: what the provider may release to this client (provider.ts).
  if (verifiedClaimNames.length) grant.addOIDCClaims(['verified_claims', ...verifiedClaimNames.map((c) => `${CONSENTED_PREFIX}${c}`)]);
  for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  return grant.save();
}

function languageFor(ctx: Context, details: Details): Lang {
  return languageOf(ctx, typeof details.params.ui_locales === 'string' ? details.params.ui_locales : undefined);
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
