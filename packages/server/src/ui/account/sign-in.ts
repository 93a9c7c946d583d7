import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Account } from '../../identity/accounts.ts';
import { achieved, combine, levelOf, type Achieved, type Level } from '../../identity/assurance.ts';
import type { Origin, Outcome } from '../../identity/sign-in.ts';
import { deviceId } from '../../http/device-cookie.ts';
import type { BrowserSession } from '../../protocol/provider.ts';
import { flowCookie, type FlowState } from '../flow-cookie.ts';
import { hasMessage, t, type Lang } from '../i18n.ts';
import { signInPage, stepUpPage, type SignInPlace } from '../sign-in-page.ts';
import { parseCredential } from '../sign-in-routes.ts';
import { render, seeOther, sensitiveLevel, type AccountDeps, type FormField } from './context.ts';

/** What the first factor proved, until the one-time code that must follow it. */
interface Pending { accountId: string; acr: string; amr: string[]; method: string }
interface Flow extends FlowState { p?: Pending; r?: string }

const FLOW_SECONDS = 15 * 60;
/** Where a sign-in may return to: an account page, never another site. */
const RETURN_PATH = /^\/account(\/[a-z0-9-]{1,30}){0,3}$/;

/**
 * Signing in to the account pages, and signing in again before a sensitive change (re-auth):
 * the same rules as at an authorization request (identity/sign-in.ts), with the first factor
 * kept in a cookie of this path until the one-time code. A browser already signed in confirms
 * it is still the same person: that person's passkeys or password only.
 */
export function accountSignIn(deps: AccountDeps) {
  const { signIn, passkeys, accounts, csrf } = deps;
  const cookie = flowCookie<Flow>('sekisho.account-signin', '/account', FLOW_SECONDS);

  interface Step { ctx: Context; lang: Lang; flow: Flow; token: string; session: BrowserSession | undefined; account: Account | undefined }

  const binding = (flow: Flow) => `account-signin:${flow.f}`;
  const originOf = (ctx: Context): Origin => ({ ip: ctx.ip, userAgent: ctx.get('user-agent'), deviceId: deviceId(ctx) });
  const place = (lang: Lang): SignInPlace => ({
    base: '/account/sign-in', self: '/account/sign-in', lead: t(lang, 'account.signin.lead'),
    ...(deps.settings.signup ? { signupHref: '/signup' } : {}),
    ...(deps.settings.recovery ? { recoverHref: '/recover' } : {}),
  });

  async function start(ctx: Context, lang: Lang): Promise<Step> {
    let flow = cookie.read(ctx);
    if (!flow) {
      flow = { f: randomBytes(16).toString('base64url'), exp: Math.floor(Date.now() / 1000) + FLOW_SECONDS };
      cookie.write(ctx, flow);
    }
    const session = await deps.browserSessions.current(ctx);
    const account = session ? await accounts.findById(session.accountId) : undefined;
    return { ctx, lang, flow, token: csrf.tokenFor(binding(flow)), session: account ? session : undefined, account };
  }

  async function show(s: Step, status = 200, error?: string, username?: string) {
    const { ctx, lang, flow } = s;
    const pending = flow.p && (!s.account || flow.p.accountId === s.account.id) ? flow.p : undefined;
    const forAccount = pending ? await accounts.findById(pending.accountId) : s.account;
    if (forAccount) {
      const hasPasskeys = (await passkeys.count(forAccount.id)) > 0;
      ctx.state.scripts = hasPasskeys;
      return render(ctx, stepUpPage(lang, {
        ...place(lang), csrf: s.token, username: forAccount.email ?? forAccount.username,
        passkeyOptions: hasPasskeys ? await passkeys.authenticationOptions({ binding: binding(flow), accountId: forAccount.id }) : undefined,
        oneTimeCode: Boolean(pending?.amr.includes('pwd')) && await signIn.hasTotp(forAccount.id), password: !pending && signIn.passwordsEnabled && forAccount.hasPassword,
        reason: pending ? 'second-factor' : 'reauth', ...(error ? { error } : {}),
      }), status);
    }
    const done = typeof ctx.query.done === 'string' && /^[a-z-]{1,40}$/.test(ctx.query.done) && hasMessage(`account.done.${ctx.query.done}`) ? t(lang, `account.done.${ctx.query.done}`) : undefined;
    ctx.state.scripts = true;
    render(ctx, signInPage(lang, {
      ...place(lang), csrf: s.token, passwords: signIn.passwordsEnabled,
      passkeyOptions: await passkeys.authenticationOptions({ binding: binding(flow) }),
      ...(done ? { notice: done } : {}), ...(username !== undefined ? { username } : {}), ...(error ? { error } : {}),
    }), status);
  }

  async function failed(s: Step, outcome: Extract<Outcome, { ok: false }>, username?: string) {
    if (outcome.reason === 'locked') {
      s.ctx.set('Retry-After', String(outcome.retryAfterSeconds ?? 60));
      return show(s, 429, t(s.lang, 'login.locked', { minutes: String(Math.max(1, Math.ceil((outcome.retryAfterSeconds ?? 60) / 60))) }), username);
    }
    if (outcome.reason === 'busy') {
      s.ctx.set('Retry-After', String(outcome.retryAfterSeconds ?? 5));
      return show(s, 503, t(s.lang, 'login.busy'), username);
    }
    if (outcome.reason === 'passkey') return show(s, 400, t(s.lang, `passkey.error.${outcome.passkeyFailure ?? 'invalid'}`), username);
    return show(s, 401, t(s.lang, s.flow.p ? 'mfa.failed' : s.account ? 'reauth.failed' : 'login.failed'), username);
  }

  async function proceed(s: Step, account: Account, done: Achieved, method: string) {
    const { ctx, flow } = s;
    const before = flow.p;
    const total = before ? combine(achieved((levelOf(before.acr) ?? 1) as Level, before.amr), done) : done;
    const fullMethod = before ? `${before.method}+${method}` : method;
    // Confirming it is the person (re-authentication) asks for their strongest way in, up to AAL2.
    const needed = s.account ? await sensitiveLevel(deps, account) : 1;
    if ((await signIn.nextStep(account, total, needed)) !== 'done') {
      cookie.write(ctx, { ...flow, p: { accountId: account.id, acr: total.acr, amr: total.amr, method: fullMethod } });
      return seeOther(ctx, '/account/sign-in');
    }
    await signIn.succeeded(account, total, fullMethod, originOf(ctx));
    const login = { accountId: account.id, acr: total.acr, amr: total.amr };
    let session = await deps.browserSessions.signIn(ctx, login);
    if (!session) {
      // Signed in as someone else on this browser: that session ends first.
      await deps.browserSessions.signOut(ctx);
      session = await deps.browserSessions.signIn(ctx, login);
    }
    if (session) {
      await deps.sessions.noteStarted({ sessionUid: session.uid, accountId: account.id, ip: ctx.ip, userAgent: ctx.get('user-agent'), deviceId: deviceId(ctx), method: fullMethod, acr: total.acr });
    }
    cookie.write(ctx, null);
    seeOther(ctx, flow.r && RETURN_PATH.test(flow.r) ? flow.r : '/account');
  }

  return {
    async show(ctx: Context, lang: Lang) {
      const s = await start(ctx, lang);
      const back = typeof ctx.query.return === 'string' && RETURN_PATH.test(ctx.query.return) ? ctx.query.return : undefined;
      if (back && back !== s.flow.r) cookie.write(ctx, (s.flow = { ...s.flow, r: back }));
      return show(s);
    },

    async post(ctx: Context, lang: Lang, action: 'login' | 'otp' | 'passkey', form: Partial<Record<FormField | 'username', string>>) {
      const s = await start(ctx, lang);
      if (!csrf.verify(ctx, binding(s.flow), form.csrf)) {
        deps.audit.recordInBackground({ type: 'csrf.rejected', outcome: 'failure', ip: ctx.ip, details: { path: ctx.path } });
        return show(s, 403, t(lang, 'error.csrf'));
      }
      const pending = s.flow.p && (!s.account || s.flow.p.accountId === s.account.id) ? s.flow.p : undefined;
      if (action === 'login') {
        if (pending) return show(s, 400);
        // Re-authentication is for the signed-in person only, whatever the form says.
        const login = s.account ? s.account.username : (form.username ?? '').trim();
        const password = form.password ?? '';
        if (!login || !password || login.length > 254 || password.length > 256) return show(s, 400, t(lang, 'login.invalid'), login.slice(0, 254));
        const outcome = await signIn.password(login, password, originOf(ctx));
        if (!outcome.ok) return failed(s, outcome, s.account ? undefined : login);
        return proceed(s, outcome.account, outcome.assurance, outcome.method);
      }
      if (action === 'otp') {
        const account = pending?.amr.includes('pwd') ? await accounts.findById(pending.accountId) : undefined;
        const code = form.code ?? '';
        if (!account || !code || code.length > 20) return show(s, 400, t(lang, 'mfa.failed'));
        const outcome = await signIn.oneTimeCode(account, code, originOf(ctx));
        if (!outcome.ok) return failed(s, outcome);
        return proceed(s, account, outcome.assurance, outcome.method.replace(/^password\+/, ''));
      }
      const response = parseCredential(form.credential);
      if (!response) return show(s, 400, t(lang, 'passkey.error.invalid'));
      const onlyFor = pending?.accountId ?? s.account?.id;
      const outcome = await signIn.passkey(binding(s.flow), response, originOf(ctx), onlyFor);
      if (!outcome.ok) return failed(s, outcome);
      return proceed(s, outcome.account, outcome.assurance, outcome.method);
    },
  };
}
