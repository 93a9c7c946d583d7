import { AccountExistsError, emailSchema } from '../../identity/accounts.ts';
import { EMAIL_CODE_MINUTES } from '../../identity/email-codes.ts';
import { accountDeleted, emailChangeCode, securityChange } from '../../mail/messages.ts';
import { t } from '../i18n.ts';
import { notify, render, seeOther, type AccountRequest } from './context.ts';
import { deletedPage, deletePage, emailCodePage, emailPage, overviewPage } from './profile-pages.ts';

const done = (r: AccountRequest) => (typeof r.ctx.query.done === 'string' ? r.ctx.query.done : undefined);

export async function showOverview(r: AccountRequest, error?: string, status = 200) {
  const verification = await r.deps.identityAssurance.current(r.account.id);
  render(r.ctx, overviewPage(r.lang, {
    csrf: r.csrf, done: done(r), account: r.account, deletion: r.deps.settings.deletion, ...(error ? { error } : {}),
    identity: verification ? { level: verification.level, verifiedAt: verification.verifiedAt, verifier: verification.verifier } : { level: 'ial1' },
  }), status);
}

export async function updateProfile(r: AccountRequest) {
  const name = (r.form.name ?? '').trim();
  if (name.length > 100) return showOverview(r, t(r.lang, 'account.name.too-long'), 400);
  await r.deps.accounts.updateName(r.account.id, name);
  r.deps.audit.recordInBackground({ type: 'account.profile_updated', outcome: 'success', subject: r.account.id, ip: r.ctx.ip, details: { fields: ['name'] } });
  seeOther(r.ctx, '/account', 'profile');
}

export async function showEmail(r: AccountRequest) {
  render(r.ctx, emailPage(r.lang, { csrf: r.csrf, current: r.account.email }));
}

/** A new address is only taken once the person proves they read it (a code sent there). */
export async function sendEmailCode(r: AccountRequest) {
  const parsed = emailSchema.safeParse((r.form.email ?? '').trim());
  const again = (key: string, status: number) =>
    render(r.ctx, emailPage(r.lang, { csrf: r.csrf, current: r.account.email, email: (r.form.email ?? '').slice(0, 254), error: t(r.lang, key) }), status);
  if (!parsed.success) return again('signup.email.invalid', 400);
  if (parsed.data === r.account.email) return again('account.email.same', 400);
  const issued = await r.deps.emailCodes.issue('email-change', parsed.data, r.account.id);
  if (issued === 'too-many') return again('signup.too-many', 429);
  try {
    await r.deps.mailer.send({ to: parsed.data, ...emailChangeCode({ code: issued.code, minutes: EMAIL_CODE_MINUTES }) });
  } catch (err) {
    r.deps.logger.warn('e-mail change code not sent', { err: String(err) });
    return again('signup.mail-failed', 503);
  }
  render(r.ctx, emailCodePage(r.lang, { csrf: r.csrf, email: parsed.data, challenge: issued.id }));
}

export async function verifyEmail(r: AccountRequest) {
  const challenge = (r.form.id ?? '').slice(0, 40);
  const email = (r.form.email ?? '').slice(0, 254);
  const result = await r.deps.emailCodes.verify('email-change', challenge, (r.form.code ?? '').slice(0, 10));
  // A code issued to another account (a copied form) is treated like a wrong one.
  if (!result.ok || result.accountId !== r.account.id) {
    const reason = !result.ok && result.reason === 'expired' ? 'signup.code.expired' : 'signup.code.wrong';
    return render(r.ctx, emailCodePage(r.lang, { csrf: r.csrf, email, challenge, error: t(r.lang, reason) }), 400);
  }
  const previous = r.account.email;
  try {
    await r.deps.accounts.changeEmail(r.account.id, result.email);
  } catch (err) {
    if (!(err instanceof AccountExistsError)) throw err;
    return render(r.ctx, emailPage(r.lang, { csrf: r.csrf, current: previous, email: result.email, error: t(r.lang, 'account.email.taken') }), 409);
  }
  r.deps.audit.recordInBackground({ type: 'account.email_changed', outcome: 'success', subject: r.account.id, ip: r.ctx.ip });
  // The old address hears of it: if someone else changed it, the owner learns before it is too late.
  notify(r, previous, securityChange({ change: 'email-changed', when: new Date() }));
  seeOther(r.ctx, '/account', 'email');
}

export async function showDelete(r: AccountRequest) {
  render(r.ctx, deletePage(r.lang, { csrf: r.csrf, account: r.account }));
}

/** Deletion is typed out (the address or username), so it is never one stray click. */
export async function deleteAccount(r: AccountRequest) {
  const typed = (r.form.confirm ?? '').trim().toLowerCase();
  const expected = (r.account.email ?? r.account.username).toLowerCase();
  if (typed !== expected) return render(r.ctx, deletePage(r.lang, { csrf: r.csrf, account: r.account, error: t(r.lang, 'account.delete.mismatch') }), 400);
  const email = r.account.email;
  const removed = await r.deps.deleteAccount(r.account.id, 'self');
  r.deps.audit.recordInBackground({ type: 'account.deleted', outcome: 'success', subject: r.account.id, ip: r.ctx.ip, details: { by: 'self', removed } });
  await r.deps.browserSessions.signOut(r.ctx);
  notify(r, email, accountDeleted({ when: new Date() }));
  render(r.ctx, deletedPage(r.lang));
}
