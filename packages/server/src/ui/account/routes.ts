import type { Context, Next } from 'koa';
import { FormBodyError, readForm } from '../../http/form-body.ts';
import { html, page } from '../html.ts';
import { t, type Lang } from '../i18n.ts';
import { languageOf } from '../language.ts';
import { endAllSessions, endSession, showActivity, signOut } from './activity.ts';
import { FORM_FIELDS, isRecent, render, seeOther, sensitiveLevel, type AccountDeps, type AccountRequest } from './context.ts';
import { deleteAccount, sendEmailCode, showDelete, showEmail, showOverview, updateProfile, verifyEmail } from './profile.ts';
import {
  addPasskey, confirmTotp, regenerateRecoveryCodes, removePasskey, removePassword, removeTotp, renamePasskey, setPassword,
  showAddPasskey, showPassword, showSecurity, showTotp,
} from './security.ts';
import { accountSignIn } from './sign-in.ts';
import { levelOf } from '../../identity/assurance.ts';
import { downloadReceipt, revokeGrant, shortenGrant, showConsents, withdrawGrantPart } from './consents.ts';
import { endDelegation, showDelegations } from './delegations.ts';
import { removeDevice, removeRequestCode, setRequestCode, showDevices } from './devices.ts';

interface Route {
  handler: (r: AccountRequest) => Promise<void>;
  /** Needs a sign-in within RECENT_SIGN_IN_SECONDS: changes to how the person signs in, e-mail, deletion. */
  recent?: true;
  /** The page a re-authentication returns to (for a form posted from it). */
  back?: string;
  /** Off in this deployment (e.g. passwords in passwordless-only mode): 404. */
  enabled?: (s: AccountDeps['settings']) => boolean;
}

const passwords = (s: AccountDeps['settings']) => s.passwords;

/** Every account page and form, and what each requires. */
const ROUTES: Record<string, Route> = {
  'GET /account': { handler: (r) => showOverview(r) },
  'POST /account/profile': { handler: updateProfile },
  'GET /account/email': { handler: showEmail, recent: true },
  'POST /account/email': { handler: sendEmailCode, recent: true, back: '/account/email' },
  'POST /account/email/verify': { handler: verifyEmail, recent: true, back: '/account/email' },
  'GET /account/security': { handler: (r) => showSecurity(r) },
  'GET /account/passkeys/new': { handler: (r) => showAddPasskey(r), recent: true },
  'POST /account/passkeys/new': { handler: addPasskey, recent: true, back: '/account/passkeys/new' },
  'POST /account/passkeys/rename': { handler: renamePasskey },
  'POST /account/passkeys/remove': { handler: removePasskey, recent: true, back: '/account/security' },
  'GET /account/password': { handler: (r) => showPassword(r), recent: true, enabled: passwords },
  'POST /account/password': { handler: setPassword, recent: true, back: '/account/password', enabled: passwords },
  'POST /account/password/remove': { handler: removePassword, recent: true, back: '/account/security', enabled: passwords },
  'GET /account/totp': { handler: (r) => showTotp(r), recent: true, enabled: passwords },
  'POST /account/totp': { handler: confirmTotp, recent: true, back: '/account/totp', enabled: passwords },
  'POST /account/totp/remove': { handler: removeTotp, recent: true, back: '/account/security', enabled: passwords },
  'POST /account/recovery-codes': { handler: regenerateRecoveryCodes, recent: true, back: '/account/security', enabled: passwords },
  'GET /account/activity': { handler: showActivity },
  'GET /account/devices': { handler: (r) => showDevices(r) },
  // Not `recent`: like ending a session, cutting off a lost phone only takes power away, and a
  // person racing whoever found their phone should not be sent to confirm it is them first.
  'POST /account/devices/remove': { handler: removeDevice },
  // Who can make the phone ring is a sign-in-like setting: only with a fresh sign-in.
  'POST /account/request-code': { handler: setRequestCode, recent: true, back: '/account/devices' },
  'POST /account/request-code/remove': { handler: removeRequestCode, recent: true, back: '/account/devices' },
  'GET /account/consents': { handler: (r) => showConsents(r) },
  'POST /account/consents/revoke': { handler: revokeGrant },
  'POST /account/consents/withdraw-part': { handler: withdrawGrantPart },
  'POST /account/consents/shorten': { handler: shortenGrant },
  'GET /account/consents/receipt': { handler: downloadReceipt },
  'GET /account/delegations': { handler: (r) => showDelegations(r) },
  'POST /account/delegations/end': { handler: endDelegation },
  'POST /account/sessions/end': { handler: endSession },
  'POST /account/sessions/end-all': { handler: endAllSessions },
  'POST /account/sign-out': { handler: signOut },
  'GET /account/delete': { handler: showDelete, recent: true, enabled: (s) => s.deletion },
  'POST /account/delete': { handler: deleteAccount, recent: true, back: '/account/delete', enabled: (s) => s.deletion },
};

const SIGN_IN = /^\/account\/sign-in(?:\/(login|otp|passkey))?$/;

/**
 * The person's own account pages (/account/…): profile, sign-in methods, devices and history.
 * Signed in through Sekisho's own session (the one single sign-on uses); forms carry a CSRF token
 * bound to that session; sensitive changes ask the person to confirm it is them first.
 */
export function accountRoutes(deps: AccountDeps) {
  const signIn = accountSignIn(deps);

  return async function handle(ctx: Context, next: Next) {
    if (ctx.path !== '/account' && !ctx.path.startsWith('/account/')) return next();
    ctx.set('Cache-Control', 'no-store');
    const lang = languageOf(ctx);

    const signInMatch = SIGN_IN.exec(ctx.path);
    if (signInMatch) {
      const action = signInMatch[1] as 'login' | 'otp' | 'passkey' | undefined;
      if (!action) return ctx.method === 'GET' ? signIn.show(ctx, lang) : notFound(ctx, lang, 405);
      if (ctx.method !== 'POST') return notFound(ctx, lang, 405);
      const form = await readFormOr400(ctx, lang, [...FORM_FIELDS, 'username'] as const);
      return form && signIn.post(ctx, lang, action, form);
    }

    const route = ROUTES[`${ctx.method} ${ctx.path}`];
    if (!route || (route.enabled && !route.enabled(deps.settings))) return notFound(ctx, lang, 404);

    const session = await deps.browserSessions.current(ctx);
    const account = session && await deps.accounts.findById(session.accountId);
    if (!session || !account) {
      if (session) await deps.browserSessions.signOut(ctx); // the account was deleted
      return seeOther(ctx, ctx.method === 'GET' ? `/account/sign-in?return=${encodeURIComponent(ctx.path)}` : '/account/sign-in');
    }
    const csrf = deps.csrf.tokenFor(`account:${session.uid}`);
    let form: AccountRequest['form'] = {};
    if (ctx.method === 'POST') {
      const read = await readFormOr400(ctx, lang, FORM_FIELDS);
      if (!read) return;
      if (!deps.csrf.verify(ctx, `account:${session.uid}`, read.csrf)) {
        deps.audit.recordInBackground({ type: 'csrf.rejected', outcome: 'failure', subject: account.id, ip: ctx.ip, details: { path: ctx.path } });
        return render(ctx, page(lang, t(lang, 'error.title'), html`<p>${t(lang, 'error.csrf')}</p><p><a href="/account">${t(lang, 'account.back')}</a></p>`), 403);
      }
      form = read;
    }
    if (route.recent && !(isRecent(session) && (levelOf(session.acr) ?? 1) >= await sensitiveLevel(deps, account))) {
      // Confirm it is still the person, with their strongest way in (a password alone does not
      // change the passkeys of an account that has them); the form is shown again afterwards.
      return seeOther(ctx, `/account/sign-in?return=${encodeURIComponent(route.back ?? ctx.path)}`);
    }
    return route.handler({ ctx, lang, account, session, csrf, form, deps });
  };
}

async function readFormOr400<K extends string>(ctx: Context, lang: Lang, fields: readonly K[]) {
  try {
    return await readForm(ctx, fields);
  } catch (err) {
    render(ctx, page(lang, t(lang, 'error.title'), html`<p>${t(lang, 'error.lead')}</p>`), err instanceof FormBodyError ? err.status : 400);
    return undefined;
  }
}

function notFound(ctx: Context, lang: Lang, status: number) {
  render(ctx, page(lang, t(lang, 'error.title'), html`<p>${t(lang, 'account.not-found')}</p><p><a href="/account">${t(lang, 'account.back')}</a></p>`), status);
}
