import { passwordSchema } from '../../identity/accounts.ts';
import { PasswordHashingBusyError } from '../../identity/password.ts';
import { PasskeyError } from '../../identity/passkeys.ts';
import { describeDevice } from '../../identity/sign-in.ts';
import { totpQrSvg } from '../../identity/totp.ts';
import { passkeyAdded, securityChange, type SecurityChange } from '../../mail/messages.ts';
import { t } from '../i18n.ts';
import { parseCredential } from '../sign-in-routes.ts';
import { notify, render, seeOther, type AccountRequest } from './context.ts';
import { addPasskeyPage, passwordPage, recoveryCodesPage, securityPage, totpPage } from './security-pages.ts';

/** A passkey registration belongs to the session that asked for it. */
const binding = (r: AccountRequest) => `account:${r.session.uid}`;

function changed(r: AccountRequest, change: SecurityChange, audit: string, details?: Record<string, unknown>) {
  r.deps.audit.recordInBackground({ type: audit, outcome: 'success', subject: r.account.id, ip: r.ctx.ip, ...(details ? { details } : {}) });
  notify(r, r.account.email, securityChange({ change, when: new Date() }));
}

export async function showSecurity(r: AccountRequest, error?: string, status = 200) {
  const { passkeys, totp, recoveryCodes, settings } = r.deps;
  const totpOn = await totp.isEnrolled(r.account.id);
  render(r.ctx, securityPage(r.lang, {
    csrf: r.csrf, done: typeof r.ctx.query.done === 'string' ? r.ctx.query.done : undefined,
    passkeys: await passkeys.list(r.account.id), passwords: settings.passwords, hasPassword: r.account.hasPassword,
    totp: totpOn, recoveryCodesLeft: totpOn ? await recoveryCodes.remaining(r.account.id) : 0, ...(error ? { error } : {}),
  }), status);
}

export async function showAddPasskey(r: AccountRequest, error?: string, status = 200) {
  const a = r.account;
  const options = await r.deps.passkeys.registrationOptions({
    accountId: a.id, userName: a.email ?? a.username, displayName: a.claims.name ?? a.email ?? a.username, binding: binding(r),
  });
  r.ctx.state.scripts = true;
  render(r.ctx, addPasskeyPage(r.lang, { csrf: r.csrf, options, ...(error ? { error } : {}) }), status);
}

export async function addPasskey(r: AccountRequest) {
  const credential = parseCredential(r.form.credential);
  try {
    if (!credential) throw new PasskeyError('invalid');
    const name = describeDevice(r.ctx.get('user-agent'));
    const passkey = await r.deps.passkeys.register({ accountId: r.account.id, binding: binding(r), response: credential as never, name });
    r.deps.audit.recordInBackground({ type: 'passkey.added', outcome: 'success', subject: r.account.id, ip: r.ctx.ip, details: { passkey: passkey.id.slice(0, 16), deviceType: passkey.deviceType } });
    notify(r, r.account.email, passkeyAdded({ name: passkey.name, when: new Date() }));
    seeOther(r.ctx, '/account/security', 'passkey-added');
  } catch (err) {
    if (!(err instanceof PasskeyError)) throw err;
    r.deps.audit.recordInBackground({ type: 'passkey.add_failed', outcome: 'failure', subject: r.account.id, ip: r.ctx.ip, details: { reason: err.reason } });
    return showAddPasskey(r, t(r.lang, `passkey.error.${err.reason}`), 400);
  }
}

export async function renamePasskey(r: AccountRequest) {
  const name = (r.form.name ?? '').trim();
  if (!name || name.length > 60 || !r.form.id) return showSecurity(r, t(r.lang, 'account.passkey.name-invalid'), 400);
  if (!(await r.deps.passkeys.rename(r.account.id, r.form.id, name))) return showSecurity(r, t(r.lang, 'account.passkey.not-found'), 404);
  seeOther(r.ctx, '/account/security', 'passkey-renamed');
}

/** Never the last way in: without a usable password, the last passkey stays. */
export async function removePasskey(r: AccountRequest) {
  const result = r.form.id ? await r.deps.passkeys.remove(r.account.id, r.form.id, r.deps.settings.passwords) : 'not-found';
  if (result === 'not-found') return showSecurity(r, t(r.lang, 'account.passkey.not-found'), 404);
  if (result === 'last') {
    r.deps.audit.recordInBackground({ type: 'passkey.remove_refused', outcome: 'failure', subject: r.account.id, ip: r.ctx.ip, details: { reason: 'last credential' } });
    return showSecurity(r, t(r.lang, 'account.passkey.last'), 409);
  }
  changed(r, 'passkey-removed', 'passkey.removed', { passkey: r.form.id!.slice(0, 16) });
  seeOther(r.ctx, '/account/security', 'passkey-removed');
}

export async function showPassword(r: AccountRequest, error?: string, status = 200) {
  render(r.ctx, passwordPage(r.lang, { csrf: r.csrf, username: r.account.username, hasPassword: r.account.hasPassword, ...(error ? { error } : {}) }), status);
}

export async function setPassword(r: AccountRequest) {
  const password = r.form.password ?? '';
  if (password !== (r.form.password2 ?? '')) return showPassword(r, t(r.lang, 'account.password.mismatch'), 400);
  if (!passwordSchema.safeParse(password).success) return showPassword(r, t(r.lang, 'account.password.weak'), 400);
  try {
    await r.deps.accounts.setPassword(r.account.id, password);
  } catch (err) {
    if (!(err instanceof PasswordHashingBusyError)) throw err;
    r.ctx.set('Retry-After', '5');
    return showPassword(r, t(r.lang, 'login.busy'), 503);
  }
  // Whoever knew the old password is signed out everywhere but here.
  const ended = await r.deps.sessions.endAll(r.account.id, r.session.uid);
  changed(r, 'password-set', 'password.changed', { otherSessionsEnded: ended });
  seeOther(r.ctx, '/account/security', 'password-set');
}

/** Passwordless from here on; TOTP and its recovery codes only ever followed the password, so they go too. */
export async function removePassword(r: AccountRequest) {
  if ((await r.deps.accounts.removePassword(r.account.id)) === 'no-passkey') return showSecurity(r, t(r.lang, 'account.password.last'), 409);
  await r.deps.totp.remove(r.account.id);
  await r.deps.recoveryCodes.removeAll(r.account.id);
  changed(r, 'password-removed', 'password.removed');
  seeOther(r.ctx, '/account/security', 'password-removed');
}

const totpLabel = (r: AccountRequest) => ({ issuer: r.deps.settings.totpIssuer.replace(/:/g, ' '), accountName: (r.account.email ?? r.account.username).replace(/:/g, ' ') });

export async function showTotp(r: AccountRequest, error?: string, status = 200) {
  if (!r.account.hasPassword || await r.deps.totp.isEnrolled(r.account.id)) return seeOther(r.ctx, '/account/security');
  const enrollment = await r.deps.totp.pendingEnrollment(r.account.id, totpLabel(r)) ?? await r.deps.totp.beginEnrollment(r.account.id, totpLabel(r));
  render(r.ctx, totpPage(r.lang, { csrf: r.csrf, qrSvg: await totpQrSvg(enrollment.uri), secret: enrollment.secretBase32, ...(error ? { error } : {}) }), status);
}

/** Turning TOTP on also makes the recovery codes, shown once. */
export async function confirmTotp(r: AccountRequest) {
  const code = (r.form.code ?? '').replace(/\s/g, '');
  if (!/^\d{6}$/.test(code) || !(await r.deps.totp.confirmEnrollment(r.account.id, code))) {
    return showTotp(r, t(r.lang, 'account.totp.wrong'), 400);
  }
  const codes = await r.deps.recoveryCodes.generate(r.account.id);
  changed(r, 'totp-enabled', 'totp.enabled');
  render(r.ctx, recoveryCodesPage(r.lang, { csrf: r.csrf, codes }));
}

export async function removeTotp(r: AccountRequest) {
  await r.deps.totp.remove(r.account.id);
  await r.deps.recoveryCodes.removeAll(r.account.id);
  changed(r, 'totp-disabled', 'totp.disabled');
  seeOther(r.ctx, '/account/security', 'totp-removed');
}

export async function regenerateRecoveryCodes(r: AccountRequest) {
  if (!(await r.deps.totp.isEnrolled(r.account.id))) return seeOther(r.ctx, '/account/security');
  const codes = await r.deps.recoveryCodes.generate(r.account.id);
  changed(r, 'recovery-codes-regenerated', 'recovery_codes.regenerated');
  render(r.ctx, recoveryCodesPage(r.lang, { csrf: r.csrf, codes }));
}
