import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Csrf } from '../http/csrf.ts';
import { deviceId } from '../http/device-cookie.ts';
import { readForm, FormBodyError } from '../http/form-body.ts';
import { AccountExistsError, emailSchema, type Accounts } from '../identity/accounts.ts';
import { EMAIL_CODE_MINUTES, type EmailCodes } from '../identity/email-codes.ts';
import { PasskeyError, type Passkeys } from '../identity/passkeys.ts';
import type { Sessions } from '../identity/sessions.ts';
import { describeDevice, type SignIn } from '../identity/sign-in.ts';
import { passkeyAssurance } from '../identity/assurance.ts';
import type { Mailer } from '../mail/mailer.ts';
import { signupCode, signupExisting } from '../mail/messages.ts';
import type { BrowserSessions } from '../protocol/provider.ts';
import { setHandoff } from './handoff.ts';
import { parseCredential } from './sign-in-routes.ts';
import { flowCookie, type FlowState } from './flow-cookie.ts';
import type { Logger } from '../shared/logger.ts';
import { languageOf } from './language.ts';
import { t } from './i18n.ts';
import { messagePage, signupCodePage, signupDonePage, signupEmailPage, signupPasskeyPage } from './signup-pages.ts';

const COOKIE = 'sekisho.signup';
const FLOW_SECONDS = 30 * 60;

/** Where a sign-up stands, in a signed cookie: the flow id (CSRF binding) and what is proven so far. */
interface Flow extends FlowState { i?: string; c?: string; e?: string; n?: string; a?: string }

/**
 * Sign-up: an e-mail address proven by a one-time code, then a passkey. The page answers the same
 * whether or not the address has an account (the mail differs), so the form does not reveal who
 * is registered. Started from a sign-in page, it ends by signing the person in to that request.
 */
export function signupRoutes(deps: {
  provider: Provider; accounts: Accounts; emailCodes: EmailCodes; passkeys: Passkeys; signIn: SignIn; sessions: Sessions;
  browserSessions: BrowserSessions; mailer: Mailer; audit: AuditLog; csrf: Csrf; logger: Logger; enabled: boolean;
}) {
  const { accounts, emailCodes, passkeys, csrf, audit } = deps;

  const cookie = flowCookie<Flow>(COOKIE, '/signup', FLOW_SECONDS);
  const readFlow = cookie.read;
  const writeFlow = cookie.write;
  const html = (ctx: Context, body: string, status = 200) => { ctx.status = status; ctx.type = 'html'; ctx.body = body; };
  const see = (ctx: Context, to: string) => { ctx.status = 303; ctx.redirect(to); };

  return async function handle(ctx: Context, next: Next) {
    if (!/^\/signup(\/verify|\/passkey)?$/.test(ctx.path)) return next();
    ctx.set('Cache-Control', 'no-store');
    const lang = languageOf(ctx);
    if (!deps.enabled) return html(ctx, messagePage(lang, t(lang, 'signup.title'), t(lang, 'signup.disabled')), 404);

    let flow = readFlow(ctx);
    if (ctx.path === '/signup' && ctx.method === 'GET') {
      const interaction = typeof ctx.query.interaction === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(ctx.query.interaction) ? ctx.query.interaction : undefined;
      if (!flow || flow.a) flow = { f: randomBytes(16).toString('base64url'), exp: Math.floor(Date.now() / 1000) + FLOW_SECONDS };
      if (interaction) flow.i = interaction;
      writeFlow(ctx, flow);
      return html(ctx, signupEmailPage(lang, { csrf: csrf.tokenFor(`signup:${flow.f}`) }));
    }
    if (!flow) return see(ctx, '/signup');
    const token = csrf.tokenFor(`signup:${flow.f}`);

    if (ctx.method === 'GET') {
      if (ctx.path === '/signup/verify' && flow.c && flow.e) return html(ctx, signupCodePage(lang, { csrf: token, email: flow.e }));
      if (ctx.path === '/signup/passkey' && flow.a) return showPasskey(ctx, flow, token);
      return see(ctx, '/signup');
    }
    if (ctx.method !== 'POST') return see(ctx, '/signup');

    let form: Partial<Record<'csrf' | 'email' | 'name' | 'code' | 'credential', string>>;
    try {
      form = await readForm(ctx, ['csrf', 'email', 'name', 'code', 'credential'] as const);
    } catch (err) {
      return html(ctx, signupEmailPage(lang, { csrf: token, error: t(lang, 'error.lead') }), err instanceof FormBodyError ? err.status : 400);
    }
    if (!csrf.verify(ctx, `signup:${flow.f}`, form.csrf)) {
      audit.recordInBackground({ type: 'csrf.rejected', outcome: 'failure', ip: ctx.ip, details: { path: ctx.path } });
      return html(ctx, signupEmailPage(lang, { csrf: token, error: t(lang, 'error.csrf') }), 403);
    }

    if (ctx.path === '/signup') {
      const email = emailSchema.safeParse((form.email ?? '').trim());
      const name = (form.name ?? '').trim().slice(0, 100);
      if (!email.success) return html(ctx, signupEmailPage(lang, { csrf: token, email: form.email?.slice(0, 254), name, error: t(lang, 'signup.email.invalid') }), 400);
      const existing = await accounts.findByEmail(email.data);
      const issued = await emailCodes.issue('signup', email.data);
      if (issued === 'too-many') return html(ctx, signupEmailPage(lang, { csrf: token, email: email.data, name, error: t(lang, 'signup.too-many') }), 429);
      // An existing address gets a different mail and no code; the page is the same either way.
      try {
        await deps.mailer.send({ to: email.data, ...(existing ? signupExisting() : signupCode({ code: issued.code, minutes: EMAIL_CODE_MINUTES })) });
      } catch (err) {
        // The mailer logged the cause; the person is told to try later, not shown a server error.
        deps.logger.warn('sign-up mail not sent', { err: String(err) });
        return html(ctx, signupEmailPage(lang, { csrf: token, email: email.data, name, error: t(lang, 'signup.mail-failed') }), 503);
      }
      audit.recordInBackground({ type: 'signup.code_sent', outcome: 'success', ip: ctx.ip, details: { existing: Boolean(existing) } });
      writeFlow(ctx, { ...flow, c: issued.id, e: email.data, n: name });
      return see(ctx, '/signup/verify');
    }

    if (ctx.path === '/signup/verify') {
      if (!flow.c || !flow.e) return see(ctx, '/signup');
      const result = await emailCodes.verify('signup', flow.c, (form.code ?? '').slice(0, 10));
      if (!result.ok) {
        audit.recordInBackground({ type: 'signup.code_failed', outcome: 'failure', ip: ctx.ip, details: { reason: result.reason } });
        return html(ctx, signupCodePage(lang, { csrf: token, email: flow.e, error: t(lang, result.reason === 'wrong' ? 'signup.code.wrong' : 'signup.code.expired') }), 400);
      }
      let account;
      try {
        account = await accounts.createFromVerifiedEmail({ email: result.email, ...(flow.n ? { name: flow.n } : {}) });
      } catch (err) {
        if (!(err instanceof AccountExistsError)) throw err;
        return html(ctx, signupCodePage(lang, { csrf: token, email: flow.e, error: t(lang, 'signup.exists') }), 409);
      }
      audit.recordInBackground({ type: 'account.created', outcome: 'success', subject: account.id, ip: ctx.ip, details: { via: 'signup' } });
      writeFlow(ctx, { f: flow.f, exp: flow.exp, a: account.id, e: result.email, ...(flow.i ? { i: flow.i } : {}) });
      return see(ctx, '/signup/passkey');
    }

    // /signup/passkey
    if (!flow.a) return see(ctx, '/signup');
    const account = await accounts.findById(flow.a);
    if (!account) return see(ctx, '/signup');
    const credential = parseCredential(form.credential);
    try {
      if (!credential) throw new PasskeyError('invalid');
      const passkey = await passkeys.register({ accountId: account.id, binding: `signup:${flow.f}`, response: credential as never, name: describeDevice(ctx.get('user-agent')) });
      audit.recordInBackground({ type: 'passkey.added', outcome: 'success', subject: account.id, ip: ctx.ip, details: { passkey: passkey.id.slice(0, 16), deviceType: passkey.deviceType } });
      // Creating the passkey verified the person (user verification is required): they are signed in.
      const done = passkeyAssurance({ deviceType: passkey.deviceType, backedUp: passkey.backedUp, userVerified: true });
      await deps.signIn.succeeded(account, done, 'passkey', { ip: ctx.ip, userAgent: ctx.get('user-agent'), deviceId: deviceId(ctx) });
      const session = await deps.browserSessions.signIn(ctx, { accountId: account.id, acr: done.acr, amr: done.amr });
      if (session) await deps.sessions.noteStarted({ sessionUid: session.uid, accountId: account.id, ip: ctx.ip, userAgent: ctx.get('user-agent'), deviceId: deviceId(ctx), method: 'passkey', acr: done.acr });
      writeFlow(ctx, null);
      // Back to the authorization request it started from; the sign-in there sees the new session.
      if (flow.i) {
        // The authorization request's pages cannot see this path's cookies, nor this one theirs: hand
        // the sign-in over in a short-lived cookie for that request only. When the browser is still
        // signed in as someone else, the provider's own account switch (sign-out first) follows.
        setHandoff(ctx, flow.i, { accountId: account.id, acr: done.acr, amr: done.amr });
        return see(ctx, `/interaction/${flow.i}/continue`);
      }
      return html(ctx, signupDonePage(lang, { email: account.email ?? account.username }));
    } catch (err) {
      if (!(err instanceof PasskeyError)) throw err;
      audit.recordInBackground({ type: 'passkey.add_failed', outcome: 'failure', subject: account.id, ip: ctx.ip, details: { reason: err.reason } });
      return showPasskey(ctx, flow, token, t(lang, `passkey.error.${err.reason}`), 400);
    }
  };

  async function showPasskey(ctx: Context, flow: Flow, token: string, error?: string, status = 200) {
    const account = await accounts.findById(flow.a!);
    if (!account) return see(ctx, '/signup');
    const options = await passkeys.registrationOptions({
      accountId: account.id, userName: account.email ?? account.username, displayName: account.claims.name ?? account.email ?? account.username, binding: `signup:${flow.f}`,
    });
    ctx.state.scripts = true;
    html(ctx, signupPasskeyPage(languageOf(ctx), { csrf: token, email: account.email ?? account.username, options, ...(error ? { error } : {}) }), status);
  }
}
