import type { Context } from 'koa';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Csrf } from '../../http/csrf.ts';
import type { Account, Accounts } from '../../identity/accounts.ts';
import type { Level } from '../../identity/assurance.ts';
import type { EmailCodes } from '../../identity/email-codes.ts';
import type { IdentityAssurance } from '../../identity/identity-assurance.ts';
import type { ConsentLedger } from '../../consent/ledger.ts';
import type { Receipts } from '../../consent/receipts.ts';
import type { Grants } from '../../consent/grants.ts';
import type { Catalogue } from '../../consent/catalogue.ts';
import type { AuthorizationDetailTypes } from '../../consent/authorization-details/registry.ts';
import type { Delegations } from '../../consent/delegations.ts';
import type { AuthenticationDevices } from '../../ciba/devices.ts';
import type { CibaUserCodes } from '../../ciba/user-codes.ts';
import type { LoginHistory } from '../../identity/login-history.ts';
import type { Passkeys } from '../../identity/passkeys.ts';
import type { RecoveryCodes } from '../../identity/recovery-codes.ts';
import type { Sessions } from '../../identity/sessions.ts';
import type { SignIn } from '../../identity/sign-in.ts';
import type { TotpStore } from '../../identity/totp.ts';
import type { Mailer } from '../../mail/mailer.ts';
import type { MailContent } from '../../mail/messages.ts';
import type { BrowserSession, BrowserSessions } from '../../protocol/provider.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Lang } from '../i18n.ts';

/** What the account pages need; app.ts builds it once. */
export interface AccountDeps {
  accounts: Accounts;
  passkeys: Passkeys;
  totp: TotpStore;
  recoveryCodes: RecoveryCodes;
  sessions: Sessions;
  history: LoginHistory;
  signIn: SignIn;
  browserSessions: BrowserSessions;
  emailCodes: EmailCodes;
  identityAssurance: IdentityAssurance;
  ledger: ConsentLedger;
  receipts: Receipts;
  grants: Grants;
  catalogue: Catalogue;
  /** The authorization_details types, to describe a grant's details in plain words. */
  detailTypes: AuthorizationDetailTypes;
  /** Who may act for the person and for whom they may act (guardians, proxies, caregivers). */
  delegations: Delegations;
  /** The phones linked as CIBA authentication devices, which the person can remove from here. */
  devices: AuthenticationDevices;
  /** The person's CIBA request code (user_code), set and removed from the devices page. */
  userCodes: CibaUserCodes;
  /**
   * The name a person knows a client by, in their language: the service name of its current
   * consent notice (what the consent screen showed them), else its registered client_name.
   */
  clientName(clientId: string, lang: Lang): Promise<string | undefined>;
  mailer: Mailer;
  audit: AuditLog;
  csrf: Csrf;
  logger: Logger;
  /** Erases the account (grants, tokens, personal data); undefined when it was already gone. */
  deleteAccount(accountId: string, reason: 'self'): Promise<unknown>;
  settings: { passwords: boolean; signup: boolean; recovery: boolean; deletion: boolean; totpIssuer: string };
}

/** Fields any account form may post; each handler reads the ones it needs. */
export const FORM_FIELDS = ['csrf', 'id', 'name', 'email', 'code', 'password', 'password2', 'credential', 'confirm', 'part', 'days'] as const;
export type FormField = (typeof FORM_FIELDS)[number];

/** One request to a signed-in account page. */
export interface AccountRequest {
  ctx: Context;
  lang: Lang;
  account: Account;
  session: BrowserSession;
  /** The CSRF token of this session's forms. */
  csrf: string;
  form: Partial<Record<FormField, string>>;
  deps: AccountDeps;
}

/** Changes to sign-in settings are only made shortly after the person proved it is them. */
export const RECENT_SIGN_IN_SECONDS = 10 * 60;

export function isRecent(session: BrowserSession, now = Date.now()): boolean {
  return session.loginTs !== undefined && now / 1000 - session.loginTs < RECENT_SIGN_IN_SECONDS;
}

/**
 * The assurance a sensitive change needs: what the account can reach, up to AAL2. An account with a
 * passkey (or TOTP) cannot be taken over with a phished password alone.
 */
export async function sensitiveLevel(deps: Pick<AccountDeps, 'signIn'>, account: Account): Promise<Level> {
  return Math.min(await deps.signIn.reachableLevel(account), 2) as Level;
}

export function render(ctx: Context, body: string, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

/** Post/redirect/get: back to a page, with a notice key it shows once. */
export function seeOther(ctx: Context, path: string, done?: string): void {
  ctx.status = 303;
  ctx.redirect(done ? `${path}?done=${done}` : path);
}

/** Best effort: a mail server being down must not undo or block what the person just did. */
export function notify(r: Pick<AccountRequest, 'deps'>, to: string | null, content: MailContent): void {
  if (!to) return;
  r.deps.mailer.send({ to, ...content }).catch((err: unknown) => r.deps.logger.warn('account notice not sent', { err: String(err) }));
}

export function origin(ctx: Context) {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent') };
}
