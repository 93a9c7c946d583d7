import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import { openStorage } from '../storage/db.ts';
import { migrate } from '../storage/migrate.ts';
import { createAuditLog } from '../audit/audit-log.ts';
import { AccountExistsError, createAccounts, emailSchema, passwordSchema } from '../identity/accounts.ts';
import { createSessions } from '../identity/sessions.ts';
import { createMailer } from '../mail/mailer.ts';
import { securityChange } from '../mail/messages.ts';

/**
 * Assisted recovery, for a person who lost every passkey and cannot use e-mail recovery (or a
 * deployment that turned it off): after checking who they are, e.g. at a branch counter, an
 * operator sets a new e-mail address or a temporary password. Every session of the account
 * ends, the person is told by mail, and the audit log records it.
 */
export const USER_RECOVERY_HELP = `  user set-email <username> <address>
                                set a verified e-mail address (checked by the operator); the person
                                can then recover by e-mail
  user set-password <username>  set a password read from stdin (never from the command line)`;

export const USER_RECOVERY_SUBCOMMANDS: readonly string[] = ['set-email', 'set-password'];

const fail = (code: number, message: string) => { process.stderr.write(message + '\n'); return code; };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function userRecoveryCommand(sub: string, args: string[], config: Config, logger: Logger): Promise<number> {
  const username = args[0];
  if (!username || username.startsWith('--')) return fail(64, `user ${sub} needs a username\n\n${USER_RECOVERY_HELP}`);
  let email: string | undefined;
  let password: string | undefined;
  if (sub === 'set-email') {
    const parsed = emailSchema.safeParse(args[1] ?? '');
    if (!parsed.success) return fail(65, 'user set-email needs a valid e-mail address');
    email = parsed.data;
  } else {
    if (process.stdin.isTTY) process.stderr.write('new password: ');
    const parsed = passwordSchema.safeParse((await readStdin()).replace(/\r?\n$/, ''));
    if (!parsed.success) return fail(65, 'the password must be 8 to 256 characters');
    password = parsed.data;
  }

  const storage = await openStorage(config);
  try {
    await migrate(storage.db);
    const accounts = createAccounts(storage.db);
    const account = await accounts.findByLogin(username);
    if (!account) return fail(1, `no account ${username}`);
    if (email !== undefined) {
      try {
        await accounts.changeEmail(account.id, email);
      } catch (err) {
        if (err instanceof AccountExistsError) return fail(1, 'another account has this address');
        throw err;
      }
    } else {
      await accounts.setPassword(account.id, password!);
    }
    const ended = await createSessions(storage.db).endAll(account.id);
    const audit = createAuditLog(storage.db, logger);
    await audit.record({ type: email !== undefined ? 'account.email_changed' : 'password.changed', outcome: 'success', subject: account.id, details: { by: 'admin', via: 'cli', sessionsEnded: ended } });
    // The address on record before the change hears of it (for a new address: the old one).
    if (account.email) {
      await createMailer({ config, db: storage.db, logger })
        .send({ to: account.email, ...securityChange({ change: email !== undefined ? 'email-changed' : 'password-set', when: new Date() }) })
        .catch((err: unknown) => logger.warn('notice not sent', { err: String(err) }));
    }
    process.stdout.write(JSON.stringify({ id: account.id, sessionsEnded: ended }) + '\n');
    return 0;
  } finally {
    await storage.close();
  }
}
