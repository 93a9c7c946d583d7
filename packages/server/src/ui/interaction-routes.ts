import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Accounts } from '../identity/accounts.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Csrf } from '../http/csrf.ts';
import { readFormParams, singleFields, FormBodyError } from '../http/form-body.ts';
import { html, page } from './html.ts';
import { pickLang, t, type Lang } from './i18n.ts';
import { languageOf } from './language.ts';
import { errorPage } from './error-page.ts';
import { createSignInRoutes, type SignInRouteDeps } from './sign-in-routes.ts';
import { createConsentSteps, subjectOfInteraction, type ConsentStepDeps } from './consent-steps.ts';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|passkey|otp|confirm|abort|continue))?$/;

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/**
 * Sign-in and consent: a client of oidc-provider's interaction step. These routes never touch
 * token tables; they finish the interaction with a result and the provider does the rest.
 */
export function interactionRoutes(deps: SignInRouteDeps & ConsentStepDeps & { accounts: Accounts; audit: AuditLog; csrf: Csrf }) {
  const { provider, audit, csrf } = deps;
  const signInRoutes = createSignInRoutes(deps);
  const consent = createConsentSteps(deps);

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
      if (!details.session) return errorPage(ctx, 400, 'invalid_request');
      return consent.show({ ctx, subject: subjectOfInteraction(details), lang, clientName, csrf: token });
    }
    if (ctx.method !== 'POST') return errorPage(ctx, 405, 'invalid_request');

    let form: Partial<Record<'csrf' | 'username' | 'password' | 'code' | 'credential', string>>;
    let params: URLSearchParams;
    try {
      params = await readFormParams(ctx);
      form = singleFields(params, ['csrf', 'username', 'password', 'code', 'credential'] as const);
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
        if ((await consent.deny({ ctx, subject: subjectOfInteraction(details), lang, clientName, csrf: token })) === 'already-decided') return redirectToResume(ctx, details);
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
    const grantId = await consent.confirm({ ctx, subject: subjectOfInteraction(details), lang, clientName, csrf: token }, params);
    if (grantId === undefined) return; // the screen is shown again with what is missing
    if (grantId === 'already-decided') return redirectToResume(ctx, details);
    if (grantId === 'gone') return errorPage(ctx, 409, 'grant_gone', t(lang, 'consent.gone'));
    return finish(ctx, { consent: { grantId } }, true);
  };

  async function finish(ctx: Context, result: InteractionResults, merge = false) {
    const target = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(target);
  }
}





function redirectToResume(ctx: Context, details: Details) {
  ctx.status = 303;
  ctx.redirect(details.returnTo);
}


function languageFor(ctx: Context, details: Details): Lang {
  return languageOf(ctx, typeof details.params.ui_locales === 'string' ? details.params.ui_locales : undefined);
}

function render(ctx: Context, body: string, status = 200) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

