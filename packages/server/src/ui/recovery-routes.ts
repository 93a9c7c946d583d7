import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Csrf } from '../http/csrf.ts';
import { deviceId } from '../http/device-cookie.ts';
import { FormBodyError, readForm } from '../http/form-body.ts';
import { emailSchema, type Account, type Accounts } from '../identity/accounts.ts';
import { passkeyAssurance } from '../identity/assurance.ts';
import { EMAIL_CODE_MINUTES, type EmailCodes } from '../identity/email-codes.ts';
import { PasskeyError, type Passkeys } from '../identity/passkeys.ts';
import type { Sessions } from '../identity/sessions.ts';
import { describeDevice, type SignIn } from '../identity/sign-in.ts';
import type { TotpStore } from '../identity/totp.ts';
import type { Mailer } from '../mail/mailer.ts';
import { accountRecovered, recoveryCode } from '../mail/messages.ts';
import type { BrowserSessions } from '../protocol/provider.ts';
import type { Logger } from '../shared/logger.ts';
import { flowCookie, type FlowState } from './flow-cookie.ts';
import { setHandoff } from './handoff.ts';
import { t } from './i18n.ts';
import { languageOf } from './language.ts';
import { recoverCodePage, recoverEmailPage, recoverPasskeyPage, recoverSecondFactorPage } from './recovery-pages.ts';
import { messagePage } from './signup-pages.ts';
import { parseCredential } from './sign-in-routes.ts';

/**
 * Where a recovery stands: the authorization request it started from (i), the e-mail code sent
 * (c, to e), then the account proven (a), whether its second factor is still owed (s).
 */
interface Flow extends FlowState { i?: string; c?: string; e?: string; a?: string; s?: boolean }

const FLOW_SECONDS = 30 * 60;

/**
 * Account recovery for a person who lost their passkeys: a code sent to the account's verified
 * e-mail address, the authenticator app or a recovery code too when the account has two-step
 * verification (so a taken-over mailbox alone is not enough), then a new passkey. Every other
 * session ends and the person is told by mail. The pages read the same whether or not an
 * account has the address.
 */
export function recoveryRoutes(deps: {
  accounts: Accounts; emailCodes: EmailCodes; passkeys: Passkeys; totp: TotpStore; signIn: SignIn; sessions: Sessions;
  browserSessions: BrowserSessions; mailer: Mailer; audit: AuditLog; csrf: Csrf; logger: Logger; enabled: boolean;
}) {
  const { accounts, emailCodes, passkeys, csrf, audit } = deps;
  const cookie = flowCookie<Flow>('sekisho.recover', '/recover', FLOW_SECONDS);
  const html = (ctx: Context, body: string, status = 200) => { ctx.status = status; ctx.type = 'html'; ctx.body = body; };
  const see = (ctx: Context, to: string) => { ctx.status = 303; ctx.redirect(to); };
  const originOf = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent'), deviceId: deviceId(ctx) });

  return async function handle(ctx: Context, next: Next) {
    if (!/^\/recover(\/verify|\/second|\/passkey)?$/.test(ctx.path)) return next();
    ctx.set('Cache-Control', 'no-store');
    const lang = languageOf(ctx);
    if (!deps.enabled) return html(ctx, messagePage(lang, t(lang, 'recover.title'), t(lang, 'recover.disabled')), 404);

    let flow = cookie.read(ctx);
    if (ctx.path === '/recover' && ctx.method === 'GET') {
      const interaction = typeof ctx.query.interaction === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(ctx.query.interaction) ? ctx.query.interaction : undefined;
      flow = { f: randomBytes(16).toString('base64url'), exp: Math.floor(Date.now() / 1000) + FLOW_SECONDS, ...(interaction ? { i: interaction } : {}) };
      cookie.write(ctx, flow);
      return html(ctx, recoverEmailPage(lang, { csrf: csrf.tokenFor(`recover:${flow.f}`) }));
    }
    if (!flow) return see(ctx, '/recover');
    const token = csrf.tokenFor(`recover:${flow.f}`);

    if (ctx.method === 'GET') {
      if (ctx.path === '/recover/verify' && flow.c && flow.e && !flow.a) return html(ctx, recoverCodePage(lang, { csrf: token, email: flow.e }));
      if (ctx.path === '/recover/second' && flow.a && flow.s) return html(ctx, recoverSecondFactorPage(lang, { csrf: token }));
      if (ctx.path === '/recover/passkey' && flow.a) return flow.s ? see(ctx, '/recover/second') : showPasskey(ctx, flow, token);
      return see(ctx, '/recover');
    }
    if (ctx.method !== 'POST') return see(ctx, '/recover');

    let form: Partial<Record<'csrf' | 'email' | 'code' | 'credential', string>>;
    try {
      form = await readForm(ctx, ['csrf', 'email', 'code', 'credential'] as const);
    } catch (err) {
      return html(ctx, recoverEmailPage(lang, { csrf: token, error: t(lang, 'error.lead') }), err instanceof FormBodyError ? err.status : 400);
    }
    if (!csrf.verify(ctx, `recover:${flow.f}`, form.csrf)) {
      audit.recordInBackground({ type: 'csrf.rejected', outcome: 'failure', ip: ctx.ip, details: { path: ctx.path } });
      return html(ctx, recoverEmailPage(lang, { csrf: token, error: t(lang, 'error.csrf') }), 403);
    }

    if (ctx.path === '/recover') {
      const email = emailSchema.safeParse((form.email ?? '').trim());
      if (!email.success) return html(ctx, recoverEmailPage(lang, { csrf: token, email: form.email?.slice(0, 254), error: t(lang, 'signup.email.invalid') }), 400);
      const account = await accounts.findByEmail(email.data);
      // The same steps whether or not an account has the address: a code is made (and counted
      // towards the hourly limit) either way, mailed only to a real account, and in the background,
      // so neither the answer, its status nor its timing says whether the address is registered.
      const issued = await emailCodes.issue('recovery', email.data, account?.id);
      if (issued === 'too-many') return html(ctx, recoverEmailPage(lang, { csrf: token, email: email.data, error: t(lang, 'signup.too-many') }), 429);
      const challenge = issued.id;
      if (account) {
        deps.mailer.send({ to: email.data, ...recoveryCode({ code: issued.code, minutes: EMAIL_CODE_MINUTES }) })
          .catch((err: unknown) => deps.logger.warn('recovery mail not sent', { err: String(err) }));
      }
      audit.recordInBackground({ type: 'recovery.code_sent', outcome: account ? 'success' : 'failure', subject: account?.id, ip: ctx.ip, details: { existing: Boolean(account) } });
      cookie.write(ctx, { f: flow.f, exp: flow.exp, c: challenge, e: email.data, ...(flow.i ? { i: flow.i } : {}) });
      return see(ctx, '/recover/verify');
    }

    if (ctx.path === '/recover/verify') {
      if (!flow.c || !flow.e || flow.a) return see(ctx, '/recover');
      const result = await emailCodes.verify('recovery', flow.c, (form.code ?? '').slice(0, 10));
      const account = result.ok && result.accountId ? await accounts.findById(result.accountId) : undefined;
      // The account must still have the address the code went to.
      if (!result.ok || !account || account.email !== result.email) {
        audit.recordInBackground({ type: 'recovery.code_failed', outcome: 'failure', ip: ctx.ip, details: { reason: result.ok ? 'account changed' : result.reason } });
        return html(ctx, recoverCodePage(lang, { csrf: token, email: flow.e, error: t(lang, 'recover.code.failed') }), 400);
      }
      const secondFactor = account.hasPassword && await deps.signIn.hasTotp(account.id);
      cookie.write(ctx, { f: flow.f, exp: flow.exp, a: account.id, e: flow.e, s: secondFactor, ...(flow.i ? { i: flow.i } : {}) });
      return see(ctx, secondFactor ? '/recover/second' : '/recover/passkey');
    }

    const account = flow.a ? await accounts.findById(flow.a) : undefined;
    if (!account) return see(ctx, '/recover');

    if (ctx.path === '/recover/second') {
      if (!flow.s) return see(ctx, '/recover/passkey');
      const code = form.code ?? '';
      const outcome = code && code.length <= 20 ? await deps.signIn.oneTimeCode(account, code, originOf(ctx)) : { ok: false as const, reason: 'invalid' as const };
      if (!outcome.ok) {
        if (outcome.reason === 'locked') ctx.set('Retry-After', String(outcome.retryAfterSeconds ?? 60));
        const message = outcome.reason === 'locked' ? t(lang, 'login.locked', { minutes: String(Math.max(1, Math.ceil((outcome.retryAfterSeconds ?? 60) / 60))) }) : t(lang, 'mfa.failed');
        return html(ctx, recoverSecondFactorPage(lang, { csrf: token, error: message }), outcome.reason === 'locked' ? 429 : 401);
      }
      cookie.write(ctx, { ...flow, s: false });
      return see(ctx, '/recover/passkey');
    }

    // /recover/passkey
    if (flow.s) return see(ctx, '/recover/second');
    const credential = parseCredential(form.credential);
    try {
      if (!credential) throw new PasskeyError('invalid');
      const passkey = await passkeys.register({ accountId: account.id, binding: `recover:${flow.f}`, response: credential as never, name: describeDevice(ctx.get('user-agent')) });
      cookie.write(ctx, null);
      return await recovered(ctx, flow, account, passkey);
    } catch (err) {
      if (!(err instanceof PasskeyError)) throw err;
      audit.recordInBackground({ type: 'passkey.add_failed', outcome: 'failure', subject: account.id, ip: ctx.ip, details: { reason: err.reason, via: 'recovery' } });
      return showPasskey(ctx, flow, token, t(lang, `passkey.error.${err.reason}`), 400);
    }
  };

  /** The new passkey is in: end every other session, tell the person, sign this browser in. */
  async function recovered(ctx: Context, flow: Flow, account: Account, passkey: { id: string; deviceType: 'singleDevice' | 'multiDevice'; backedUp: boolean }) {
    const ended = await deps.sessions.endAll(account.id);
    audit.recordInBackground({ type: 'account.recovered', outcome: 'success', subject: account.id, ip: ctx.ip, details: { passkey: passkey.id.slice(0, 16), sessionsEnded: ended } });
    if (account.email) {
      deps.mailer.send({ to: account.email, ...accountRecovered({ when: new Date() }) })
        .catch((err: unknown) => deps.logger.warn('recovery notice not sent', { err: String(err) }));
    }
    const done = passkeyAssurance({ deviceType: passkey.deviceType, backedUp: passkey.backedUp, userVerified: true });
    await deps.signIn.succeeded(account, done, 'recovery', originOf(ctx));
    if (flow.i) {
      setHandoff(ctx, flow.i, { accountId: account.id, acr: done.acr, amr: done.amr });
      return see(ctx, `/interaction/${flow.i}/continue`);
    }
    const login = { accountId: account.id, acr: done.acr, amr: done.amr };
    let session = await deps.browserSessions.signIn(ctx, login);
    if (!session) {
      await deps.browserSessions.signOut(ctx);
      session = await deps.browserSessions.signIn(ctx, login);
    }
    if (session) await deps.sessions.noteStarted({ sessionUid: session.uid, accountId: account.id, ...originOf(ctx), method: 'recovery', acr: done.acr });
    return see(ctx, '/account/security?done=recovered');
  }

  async function showPasskey(ctx: Context, flow: Flow, token: string, error?: string, status = 200) {
    const account = await accounts.findById(flow.a!);
    if (!account) return see(ctx, '/recover');
    const options = await passkeys.registrationOptions({
      accountId: account.id, userName: account.email ?? account.username, displayName: account.claims.name ?? account.email ?? account.username, binding: `recover:${flow.f}`,
    });
    ctx.state.scripts = true;
    html(ctx, recoverPasskeyPage(languageOf(ctx), { csrf: token, email: account.email ?? account.username, options, ...(error ? { error } : {}) }), status);
  }
}
