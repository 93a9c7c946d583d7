import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Account, Accounts } from '../identity/accounts.ts';
import { achieved, combine, levelOf, reportedAcr, requiredLevel, type Achieved, type Level } from '../identity/assurance.ts';
import type { Passkeys } from '../identity/passkeys.ts';
import type { Sessions } from '../identity/sessions.ts';
import type { Origin, Outcome, SignIn } from '../identity/sign-in.ts';
import type { BrowserSessions } from '../protocol/provider.ts';
import { deviceId } from '../http/device-cookie.ts';
import { t, type Lang } from './i18n.ts';
import { signInPage, stepUpPage, type SignInPlace } from './sign-in-page.ts';
import { takeHandoff } from './handoff.ts';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/** What the first factor proved, kept in the interaction until the second one is given. */
interface Pending { accountId: string; acr: string; amr: string[]; method: string }

export interface SignInRouteDeps {
  provider: Provider;
  accounts: Accounts;
  passkeys: Passkeys;
  signIn: SignIn;
  sessions: Sessions;
  browserSessions: BrowserSessions;
  signupEnabled: boolean;
  recoveryEnabled: boolean;
}

export interface LoginStep {
  ctx: Context;
  details: Details;
  lang: Lang;
  clientName: string;
  csrf: string;
  form: Partial<Record<'username' | 'password' | 'code' | 'credential', string>>;
}

/**
 * The login prompt: passkey or password, a one-time code after a password when the account has
 * TOTP, and a stronger credential when the client asks for more assurance (step-up). Each step
 * ends in finishing the interaction; the pages never touch the provider's tables.
 */
export function createSignInRoutes(deps: SignInRouteDeps) {
  const { provider, accounts, passkeys, signIn } = deps;

  const pendingOf = (details: Details): Pending | undefined => {
    const p = (details.result as { sekisho?: { pending?: Pending } } | undefined)?.sekisho?.pending;
    return p && typeof p.accountId === 'string' ? p : undefined;
  };
  /** A signed-in session asked for more (the acr_level check): step-up on top of it. */
  const stepUpBase = (details: Details): Pending | undefined => {
    const s = details.session;
    if (!s || !details.prompt.reasons.includes('acr_level')) return undefined;
    return { accountId: s.accountId, acr: s.acr ?? '', amr: s.amr ?? [], method: 'session' };
  };
  const originOf = (step: LoginStep): Origin => ({
    ip: step.ctx.ip, userAgent: step.ctx.get('user-agent'), deviceId: deviceId(step.ctx), clientId: String(step.details.params.client_id),
  });
  const binding = (uid: string) => `interaction:${uid}`;
  const placeOf = (step: LoginStep): SignInPlace => {
    const base = `/interaction/${step.details.uid}`;
    return {
      base, self: base, lead: t(step.lang, 'login.lead', { client: step.clientName }), abortAction: `${base}/abort`,
      ...(deps.signupEnabled ? { signupHref: `/signup?interaction=${step.details.uid}` } : {}),
      ...(deps.recoveryEnabled ? { recoverHref: `/recover?interaction=${step.details.uid}` } : {}),
    };
  };

  async function render(step: LoginStep, status = 200, error?: string, username?: string) {
    const { ctx, details, lang } = step;
    const base = pendingOf(details) ?? stepUpBase(details);
    if (base) return renderSecondStep(step, base, status, error);
    ctx.state.scripts = true;
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = signInPage(lang, {
      ...placeOf(step), csrf: step.csrf, passwords: signIn.passwordsEnabled,
      passkeyOptions: await passkeys.authenticationOptions({ binding: binding(details.uid) }),
      ...(username !== undefined ? { username } : {}), ...(error ? { error } : {}),
    });
  }

  async function renderSecondStep(step: LoginStep, base: Pending, status: number, error?: string) {
    const { ctx, details, lang } = step;
    const account = await accounts.findById(base.accountId);
    if (!account) return finish(ctx, { error: 'login_required', error_description: 'the account no longer exists' });
    const needed = requiredLevel(details.params);
    const offerCode = base.amr.includes('pwd') && !base.amr.includes('otp') && needed <= 2 && await signIn.hasTotp(account.id);
    const hasPasskeys = (await passkeys.count(account.id)) > 0;
    ctx.state.scripts = hasPasskeys;
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = stepUpPage(lang, {
      ...placeOf(step), clientName: step.clientName, csrf: step.csrf, username: account.username,
      passkeyOptions: hasPasskeys ? await passkeys.authenticationOptions({ binding: binding(details.uid), accountId: account.id }) : undefined,
      oneTimeCode: offerCode, reason: base.method === 'session' ? 'step-up' : 'second-factor',
      ...(error ? { error } : {}),
    });
  }

  /**
   * After a credential was verified: done, or ask for a second one. `before` is what an earlier
   * step of this sign-in proved (password, or the session being stepped up).
   */
  async function proceed(step: LoginStep, account: Account, done: Achieved, method: string, before?: Pending) {
    const { ctx, details } = step;
    const total = before ? combine(fromPending(before), done) : done;
    const fullMethod = before && before.method !== 'session' ? `${before.method}+${method}` : method;
    const next = await signIn.nextStep(account, total, requiredLevel(details.params));
    if (next !== 'done') {
      if (next === 'unmet') {
        // A password reaches AAL1 only; a request that insists on more cannot be met by this account.
        return finish(ctx, { error: 'unmet_authentication_requirements', error_description: 'the requested authentication assurance level cannot be met' });
      }
      const pending: Pending = { accountId: account.id, acr: total.acr, amr: total.amr, method: fullMethod };
      await provider.interactionResult(ctx.req, ctx.res, { sekisho: { pending } }, { mergeWithLastSubmission: false });
      ctx.status = 303;
      return ctx.redirect(`/interaction/${details.uid}`);
    }
    await signIn.succeeded(account, total, fullMethod, originOf(step));
    const acr = reportedAcr(total, details.params);
    const session = await deps.browserSessions.signIn(ctx, { accountId: account.id, acr, amr: total.amr });
    if (session) {
      await deps.sessions.noteStarted({ sessionUid: session.uid, accountId: account.id, ip: ctx.ip, userAgent: ctx.get('user-agent'), deviceId: deviceId(ctx), method: fullMethod, acr });
    }
    return finish(ctx, { login: { accountId: account.id, acr, amr: total.amr, remember: true } });
  }

  async function failed(step: LoginStep, outcome: Extract<Outcome, { ok: false }>, username?: string) {
    const { lang } = step;
    if (outcome.reason === 'locked') {
      const minutes = String(Math.max(1, Math.ceil((outcome.retryAfterSeconds ?? 60) / 60)));
      step.ctx.set('Retry-After', String(outcome.retryAfterSeconds ?? 60));
      return render(step, 429, t(lang, 'login.locked', { minutes }), username);
    }
    if (outcome.reason === 'busy') {
      step.ctx.set('Retry-After', String(outcome.retryAfterSeconds ?? 5));
      return render(step, 503, t(lang, 'login.busy'), username);
    }
    if (outcome.reason === 'passkey') return render(step, 400, t(lang, `passkey.error.${outcome.passkeyFailure ?? 'invalid'}`), username);
    return render(step, 401, t(lang, pendingOf(step.details) || stepUpBase(step.details) ? 'mfa.failed' : 'login.failed'), username);
  }

  async function finish(ctx: Context, result: InteractionResults) {
    const target = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(target);
  }

  return {
    show: (step: LoginStep) => render(step),

    /** The person signed in elsewhere on this site (sign-up, recovery): use that sign-in here. */
    async continueWithSession(step: LoginStep) {
      const { ctx, details } = step;
      const handoff = takeHandoff(ctx, details.uid);
      const session = handoff ? undefined : await deps.browserSessions.current(ctx);
      const fresh = session?.loginTs !== undefined && Date.now() / 1000 - session.loginTs < 600;
      const login = handoff ?? (session && fresh ? { accountId: session.accountId, acr: session.acr ?? '', amr: session.amr ?? [] } : undefined);
      if (!login || (levelOf(login.acr) ?? 1) < requiredLevel(details.params)) {
        ctx.status = 303;
        return ctx.redirect(`/interaction/${details.uid}`);
      }
      const acr = reportedAcr(achieved((levelOf(login.acr) ?? 1) as Level, login.amr), details.params);
      return finish(ctx, { login: { accountId: login.accountId, acr, amr: login.amr, remember: true } });
    },

    async password(step: LoginStep) {
      if (pendingOf(step.details) || stepUpBase(step.details)) return render(step, 400);
      const username = (step.form.username ?? '').trim();
      const password = step.form.password ?? '';
      if (!username || !password || username.length > 254 || password.length > 256) {
        return render(step, 400, t(step.lang, 'login.invalid'), username.slice(0, 254));
      }
      const outcome = await signIn.password(username, password, originOf(step));
      if (!outcome.ok) return failed(step, outcome, username);
      return proceed(step, outcome.account, outcome.assurance, outcome.method);
    },

    async oneTimeCode(step: LoginStep) {
      const base = pendingOf(step.details) ?? stepUpBase(step.details);
      if (!base || !base.amr.includes('pwd')) return render(step, 400);
      const account = await accounts.findById(base.accountId);
      const code = step.form.code ?? '';
      if (!account || !code || code.length > 20) return render(step, 400, t(step.lang, 'mfa.failed'));
      const outcome = await signIn.oneTimeCode(account, code, originOf(step));
      if (!outcome.ok) return failed(step, outcome);
      return proceed(step, account, outcome.assurance, outcome.method.replace(/^password\+/, ''), base);
    },

    async passkey(step: LoginStep) {
      const base = pendingOf(step.details) ?? stepUpBase(step.details);
      const response = parseCredential(step.form.credential);
      if (!response) return render(step, 400, t(step.lang, 'passkey.error.invalid'));
      const outcome = await signIn.passkey(binding(step.details.uid), response, originOf(step), base?.accountId);
      if (!outcome.ok) return failed(step, outcome);
      return proceed(step, outcome.account, outcome.assurance, outcome.method, base);
    },
  };
}

function fromPending(p: Pending): Achieved {
  return achieved((levelOf(p.acr) ?? 1) as Level, p.amr);
}

/** The `credential` field of a passkey form: a WebAuthn response as JSON, bounded in size. */
export function parseCredential(raw: string | undefined): unknown {
  if (!raw || raw.length > 16_384) return undefined;
  try {
    const value = JSON.parse(raw) as unknown;
    return value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
