import type { AuditLog } from '../audit/audit-log.ts';
import type { Mailer } from '../mail/mailer.ts';
import { newDeviceAlert, securityChange } from '../mail/messages.ts';
import type { Logger } from '../shared/logger.ts';
import type { Account, Accounts } from './accounts.ts';
import { passwordAndOtpAssurance, passwordAssurance, type Achieved, type Level } from './assurance.ts';
import type { LoginHistory } from './login-history.ts';
import { PasskeyError, type Passkeys } from './passkeys.ts';
import type { RecoveryCodes } from './recovery-codes.ts';
import type { Throttle } from './throttle.ts';
import { accountKey, ipKey } from './throttle-policy.ts';
import type { TotpStore } from './totp.ts';
import { PasswordHashingBusyError, passwordHashingBusy } from './password.ts';

/** Where a sign-in attempt comes from. */
export interface Origin {
  ip: string;
  userAgent?: string | undefined;
  deviceId?: string | undefined;
  clientId?: string | undefined;
}

export type Outcome =
  | { ok: true; account: Account; assurance: Achieved; method: string }
  | { ok: false; reason: 'invalid' | 'locked' | 'passkey' | 'busy'; retryAfterSeconds?: number; passkeyFailure?: string };

/** How long a person is asked to wait when passwords are not being checked for a moment. */
const BUSY_RETRY_SECONDS = 5;

/**
 * The rules of signing in, shared by the authorization pages and the account page: which
 * credential proves what, throttling of guessable factors, history, alerts and audit. Routes call
 * this; it never renders.
 */
export function createSignIn(deps: {
  accounts: Accounts; passkeys: Passkeys; totp: TotpStore; recoveryCodes: RecoveryCodes; throttle: Throttle;
  history: LoginHistory; mailer: Mailer; audit: AuditLog; logger: Logger; passwordsEnabled: boolean;
}) {
  const { accounts, passkeys, totp, recoveryCodes, throttle, history, audit } = deps;
  const keysFor = (origin: Origin, accountId?: string) => {
    const keys: string[] = [];
    try { keys.push(ipKey(origin.ip)); } catch { /* no usable address: the account key still applies */ }
    if (accountId) keys.push(accountKey(accountId));
    return keys;
  };

  async function failed(origin: Origin, method: string, accountId: string | undefined, reason: string) {
    const lock = await throttle.recordFailure(keysFor(origin, accountId));
    await history.record({ accountId, ip: origin.ip, userAgent: origin.userAgent, deviceId: origin.deviceId, method, result: lock.locked ? 'locked' : 'failure' });
    audit.recordInBackground({ type: 'login.failure', outcome: 'failure', clientId: origin.clientId, subject: accountId, ip: origin.ip, details: { method, reason } });
  }

  // One audit event per 10 s of overload, with a count: a flood of refusals must not become a
  // flood of audit writes.
  let busyRefused = 0;
  let busyLoggedAt = 0;
  function busy(origin: Origin): Outcome {
    busyRefused++;
    if (Date.now() - busyLoggedAt >= 10_000) {
      audit.recordInBackground({ type: 'login.busy', outcome: 'failure', ip: origin.ip, details: { method: 'password', refusedSinceLastEvent: busyRefused } });
      busyLoggedAt = Date.now();
      busyRefused = 0;
    }
    return { ok: false, reason: 'busy', retryAfterSeconds: BUSY_RETRY_SECONDS };
  }

  /**
   * The strongest level this account could reach at all, to tell "ask for a stronger credential"
   * from "this cannot be met" (unmet_authentication_requirements).
   */
  async function reachableLevel(account: Account): Promise<Level> {
    // A passkey switched off after a clone was detected reaches nothing.
    const keys = (await passkeys.list(account.id)).filter((k) => !k.suspendedAt);
    if (keys.some((k) => k.deviceType === 'singleDevice' && !k.backedUp)) return 3;
    if (keys.length || (account.hasPassword && await totp.isEnrolled(account.id))) return 2;
    return 1;
  }

  return {
    passwordsEnabled: deps.passwordsEnabled,

    /** First factor by password. Locked accounts are not even checked (and say so). */
    async password(login: string, password: string, origin: Origin): Promise<Outcome> {
      if (!deps.passwordsEnabled) return { ok: false, reason: 'invalid' };
      // Refused before any work: an overload of password sign-ins must not reach the thread pool
      // every other request needs (identity/password.ts).
      if (passwordHashingBusy()) return busy(origin);
      const account = await accounts.findByLogin(login);
      const lock = await throttle.check(keysFor(origin, account?.id));
      if (lock.locked) {
        await history.record({ accountId: account?.id, ip: origin.ip, userAgent: origin.userAgent, deviceId: origin.deviceId, method: 'password', result: 'locked' });
        audit.recordInBackground({ type: 'login.locked', outcome: 'failure', clientId: origin.clientId, subject: account?.id, ip: origin.ip, details: { method: 'password' } });
        return { ok: false, reason: 'locked', retryAfterSeconds: lock.retryAfterSeconds };
      }
      let matches: boolean;
      try {
        matches = await accounts.checkPassword(account, password);
      } catch (err) {
        if (err instanceof PasswordHashingBusyError) return busy(origin);
        throw err;
      }
      if (!account || !matches) {
        await failed(origin, 'password', account?.id, 'wrong password');
        return { ok: false, reason: 'invalid' };
      }
      return { ok: true, account, assurance: passwordAssurance(), method: 'password' };
    },

    /** Second factor after a password: a TOTP code or one recovery code. */
    async oneTimeCode(account: Account, code: string, origin: Origin): Promise<Outcome> {
      const lock = await throttle.check(keysFor(origin, account.id));
      if (lock.locked) return { ok: false, reason: 'locked', retryAfterSeconds: lock.retryAfterSeconds };
      const trimmed = code.replace(/\s/g, '');
      if (/^\d{6}$/.test(trimmed) && await totp.verify(account.id, trimmed)) {
        return { ok: true, account, assurance: passwordAndOtpAssurance(), method: 'password+totp' };
      }
      if (!/^\d{6}$/.test(trimmed) && trimmed.length <= 20 && await recoveryCodes.use(account.id, trimmed)) {
        audit.recordInBackground({ type: 'recovery_code.used', outcome: 'success', subject: account.id, ip: origin.ip });
        return { ok: true, account, assurance: passwordAndOtpAssurance(), method: 'password+recovery-code' };
      }
      await failed(origin, 'one-time-code', account.id, 'wrong code');
      return { ok: false, reason: 'invalid' };
    },

    /** A passkey assertion; `accountId` restricts it to one person (step-up). */
    async passkey(binding: string, response: unknown, origin: Origin, accountId?: string): Promise<Outcome> {
      try {
        const r = await passkeys.authenticate({ binding, response: response as never, ...(accountId ? { accountId } : {}) });
        const account = await accounts.findById(r.accountId);
        if (!account) return { ok: false, reason: 'passkey', passkeyFailure: 'unknown-credential' };
        return { ok: true, account, assurance: r.assurance, method: 'passkey' };
      } catch (err) {
        if (!(err instanceof PasskeyError)) throw err;
        // Passkeys cannot be guessed, so a failure does not count towards a lock; it is recorded.
        const subject = err.accountId ?? accountId;
        audit.recordInBackground({
          type: err.reason === 'counter' ? 'passkey.clone_suspected' : 'login.failure', outcome: 'failure',
          clientId: origin.clientId, subject, ip: origin.ip, details: { method: 'passkey', reason: err.reason },
        });
        await history.record({ accountId: subject, ip: origin.ip, userAgent: origin.userAgent, deviceId: origin.deviceId, method: 'passkey', result: 'failure' });
        if (err.reason === 'counter' && subject) {
          const owner = await accounts.findById(subject);
          if (owner?.email) {
            deps.mailer.send({ to: owner.email, ...securityChange({ change: 'passkey-suspended', when: new Date() }) })
              .catch((e: unknown) => deps.logger.warn('clone notice not sent', { err: String(e) }));
          }
        }
        return { ok: false, reason: 'passkey', passkeyFailure: err.reason };
      }
    },

    async hasTotp(accountId: string): Promise<boolean> {
      return totp.isEnrolled(accountId);
    },

    reachableLevel,

    /**
     * After a credential was verified: signed in ('done'), a further credential needed ('more': a
     * one-time code after a password when TOTP is enrolled, or a stronger credential for `needed`),
     * or 'unmet' when this account has nothing that reaches `needed`.
     */
    async nextStep(account: Account, total: Achieved, needed: Level): Promise<'done' | 'more' | 'unmet'> {
      const totpFollows = total.amr.includes('pwd') && !total.amr.includes('otp') && total.level < 2 && await totp.isEnrolled(account.id);
      if (total.level >= needed && !totpFollows) return 'done';
      return (await reachableLevel(account)) < needed ? 'unmet' : 'more';
    },

    /** Records a completed sign-in: history, throttle reset, new-device alert, audit. */
    async succeeded(account: Account, done: Achieved, method: string, origin: Origin): Promise<void> {
      await throttle.recordSuccess(keysFor(origin, account.id));
      const known = await history.isKnownDevice(account.id, origin.deviceId);
      const before = known || await history.hasSignedInBefore(account.id);
      await history.record({ accountId: account.id, ip: origin.ip, userAgent: origin.userAgent, deviceId: origin.deviceId, method, result: 'success', acr: done.acr });
      audit.recordInBackground({ type: 'login.success', outcome: 'success', clientId: origin.clientId, subject: account.id, ip: origin.ip, details: { method, acr: done.acr, amr: done.amr } });
      if (!known && before && account.email) {
        // Best effort: a mail server being down must not stop the person signing in.
        deps.mailer.send({ to: account.email, ...newDeviceAlert({ when: new Date(), ip: origin.ip, device: describeDevice(origin.userAgent), method }) })
          .catch((err: unknown) => deps.logger.warn('new-device alert not sent', { err: String(err) }));
      }
    },
  };
}
export type SignIn = ReturnType<typeof createSignIn>;

/** A short, human description of a browser from its User-Agent ("Chrome on Windows"). */
export function describeDevice(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Chrome\//.test(ua) ? 'Chrome' : /Firefox\//.test(ua) ? 'Firefox' : /Safari\//.test(ua) ? 'Safari' : 'a browser';
  const os = /iPhone|iPad/.test(ua) ? 'iOS' : /Android/.test(ua) ? 'Android' : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : 'an unknown system';
  return `${browser} on ${os}`;
}
