import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import { createSekisho } from '../app.ts';
import { openStorage } from '../storage/db.ts';
import { migrate } from '../storage/migrate.ts';
import { resolveKek } from '../keys/kek-source.ts';
import { createSigningKeyStore } from '../keys/signing-keys.ts';
import { registerClient, ClientRegistrationError } from '../protocol/client-registration.ts';
import { createClientsRepository } from '../storage/clients-repo.ts';
import { accountClaimsSchema } from '../identity/accounts.ts';
import { startServer } from './start.ts';
import { createAuditLog } from '../audit/audit-log.ts';
import { createGrantEndings } from '../consent/grant-endings.ts';
import { createGrantTerms } from '../consent/grant-terms.ts';
import { createConsentLedger } from '../consent/ledger.ts';
import { listMailbox } from '../mail/mailer.ts';
import { USER_IDENTITY_HELP, USER_IDENTITY_SUBCOMMANDS, userIdentityCommand } from './user-identity-commands.ts';
import { USER_RECOVERY_HELP, USER_RECOVERY_SUBCOMMANDS, userRecoveryCommand } from './user-recovery-commands.ts';
import { USER_LINK_HELP, USER_LINK_SUBCOMMANDS, userLinkCommand } from './user-link-commands.ts';
import { USER_DEVICE_HELP, USER_DEVICE_SUBCOMMANDS, userDeviceCommand } from './user-device-commands.ts';
import { CONSENT_HELP, consentCommand } from './consent-commands.ts';
import { NOTICE_HELP, noticeCommand } from './notice-commands.ts';
import { DELEGATION_HELP, delegationCommand } from './delegation-commands.ts';

const HELP = `sekisho <command>

  start                         run the server (migrations run first)
  migrate                       apply database migrations and exit
  client add --file <json|->    register a client from RFC 7591 metadata (jwks or jwks_uri)
  client list                   list registered clients
  client show <client_id>       print one client's metadata
  client remove <client_id>     remove a client and everything issued to it
${NOTICE_HELP}
  user add --username <name> [--claims <json>]
                                create an account; the password is read from standard input
${USER_IDENTITY_HELP}
${USER_RECOVERY_HELP}
${USER_LINK_HELP}
${USER_DEVICE_HELP}
${CONSENT_HELP}
${DELEGATION_HELP}
  keys list                     list signing keys
  keys rotate                   new signing keys; old ones verify for keyRotationOverlapSeconds
  audit list [--type T] [--limit N]
                                print recent audit events (newest first)
  mail list [--to <address>] [--limit N]
                                print the development mailbox (newest first); not in production

Configuration: SEKISHO_CONFIG (JSON file) and SEKISHO_* environment variables; see docs/configuration.md.`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const out = (value: unknown) => process.stdout.write(typeof value === 'string' ? value + '\n' : JSON.stringify(value, null, 2) + '\n');

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs one command; returns the exit code. */
export async function runCli(argv: string[], config: Config, logger: Logger): Promise<number> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case 'start':
      await startServer(config, logger);
      return 0;
    case 'migrate': {
      const storage = await openStorage(config);
      try {
        const applied = await migrate(storage.db);
        out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally { await storage.close(); }
      return 0;
    }
    case 'client': return sub === 'notice' || sub === 'notices' ? noticeCommand(sub, rest, config, logger) : clientCommand(sub, rest, config, logger);
    case 'user': return userCommand(sub, rest, config, logger);
    case 'keys': return keysCommand(sub, config, logger);
    case 'audit': return auditCommand(sub, rest, config, logger);
    case 'mail': return mailCommand(sub, rest, config);
    case 'consent': return consentCommand(sub, rest, config, logger);
    case 'delegation': return delegationCommand(sub, rest, config, logger);
    case undefined: case 'help': case '--help': case '-h':
      out(HELP);
      return command === undefined ? 64 : 0;
    default:
      process.stderr.write(`unknown command: ${command}\n\n${HELP}\n`);
      return 64;
  }
}

async function clientCommand(sub: string | undefined, args: string[], config: Config, logger: Logger): Promise<number> {
  const app = await createSekisho(config, logger);
  try {
    const clients = createClientsRepository(app.storage.db);
    if (sub === 'add') {
      const file = flag(args, '--file');
      if (!file) { process.stderr.write('client add needs --file <path|->\n'); return 64; }
      let metadata: unknown;
      try {
        metadata = JSON.parse(file === '-' ? await readStdin() : readFileSync(file, 'utf8'));
      } catch (err) {
        process.stderr.write(`cannot read client metadata: ${(err as Error).message}\n`);
        return 65;
      }
      try {
        const registered = await registerClient(app.provider, clients, metadata as Record<string, unknown>);
        await app.audit.record({ type: 'client.added', outcome: 'success', clientId: registered.client_id, details: { via: 'cli' } });
        out(registered);
        return 0;
      } catch (err) {
        if (err instanceof ClientRegistrationError) {
          process.stderr.write(`${err.error}: ${err.message}\n`);
          return 65;
        }
        throw err;
      }
    }
    if (sub === 'list') {
      for (const c of await clients.list()) {
        out(`${c.client_id}\t${String(c.token_endpoint_auth_method)}\t${c.require_signed_request_object ? 'message-signing' : 'security-profile'}\t${String(c.client_name ?? '')}`);
      }
      return 0;
    }
    if (sub === 'show' || sub === 'remove') {
      const id = args[0];
      if (!id) { process.stderr.write(`client ${sub} needs a client_id\n`); return 64; }
      if (sub === 'show') {
        const c = await clients.get(id);
        if (!c) { process.stderr.write(`no client ${id}\n`); return 1; }
        out(c);
        return 0;
      }
      if (!(await clients.remove(id))) { process.stderr.write(`no client ${id}\n`); return 1; }
      await app.audit.record({ type: 'client.removed', outcome: 'success', clientId: id, details: { via: 'cli' } });
      // The people who consented see those consents ended, in My consents and in their history.
      const ended = await createGrantEndings({ terms: createGrantTerms(app.storage.db), ledger: createConsentLedger(app.storage.db, { retentionDays: config.consent.retentionDays }), audit: app.audit })
        .clientRemoved(id);
      out(`removed ${id}${ended ? ` (${ended} consent${ended === 1 ? '' : 's'} ended)` : ''}`);
      return 0;
    }
    process.stderr.write('client add|list|show|remove\n');
    return 64;
  } finally { await app.close(); }
}

async function userCommand(sub: string | undefined, args: string[], config: Config, logger: Logger): Promise<number> {
  if (sub && USER_IDENTITY_SUBCOMMANDS.includes(sub)) return userIdentityCommand(sub, args, config, logger);
  if (sub && USER_RECOVERY_SUBCOMMANDS.includes(sub)) return userRecoveryCommand(sub, args, config, logger);
  if (sub && USER_LINK_SUBCOMMANDS.includes(sub)) return userLinkCommand(sub, args, config, logger);
  if (sub && USER_DEVICE_SUBCOMMANDS.includes(sub)) return userDeviceCommand(sub, args, config, logger);
  if (sub !== 'add') { process.stderr.write('user add --username <name> [--claims <json>]\n'); return 64; }
  const username = flag(args, '--username');
  if (!username) { process.stderr.write('user add needs --username\n'); return 64; }
  let claims: unknown = {};
  const rawClaims = flag(args, '--claims');
  if (rawClaims) {
    try { claims = JSON.parse(rawClaims); } catch { process.stderr.write('--claims must be JSON\n'); return 65; }
  }
  const parsedClaims = accountClaimsSchema.safeParse(claims);
  if (!parsedClaims.success) {
    process.stderr.write(`--claims: ${parsedClaims.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`);
    return 65;
  }
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const password = (await readStdin()).replace(/\r?\n$/, '');
  const app = await createSekisho(config, logger);
  try {
    const account = await app.accounts.create({ username, password, claims: parsedClaims.data });
    await app.audit.record({ type: 'account.created', outcome: 'success', subject: account.id, details: { via: 'cli' } });
    out({ id: account.id, username: account.username });
    return 0;
  } catch (err) {
    const e = err as { issues?: Array<{ message: string }>; code?: string };
    if (e.issues) { process.stderr.write(`invalid account: ${e.issues.map((i) => i.message).join('; ')}\n`); return 65; }
    if (e.code === '23505') { process.stderr.write(`username ${username} is taken\n`); return 1; }
    throw err;
  } finally { await app.close(); }
}

async function keysCommand(sub: string | undefined, config: Config, logger: Logger): Promise<number> {
  const storage = await openStorage(config);
  try {
    await migrate(storage.db);
    const keys = createSigningKeyStore(storage.db, resolveKek(config, logger));
    if (sub === 'list') {
      for (const k of await keys.list()) {
        out(`${k.kid}\t${k.alg}\t${k.retiredAt ? `retired, published until ${k.purgeAfter?.toISOString()}` : 'active'}`);
      }
      return 0;
    }
    if (sub === 'rotate') {
      const result = await keys.rotate(config.keyRotationOverlapSeconds);
      await createAuditLog(storage.db, logger).record({ type: 'key.rotated', outcome: 'success', details: result });
      out({ ...result, note: 'restart each server instance (rolling) to sign with the new keys; retired keys stay published until their overlap ends' });
      return 0;
    }
    process.stderr.write('keys list|rotate\n');
    return 64;
  } finally { await storage.close(); }
}

async function auditCommand(sub: string | undefined, args: string[], config: Config, logger: Logger): Promise<number> {
  if (sub !== 'list') { process.stderr.write('audit list [--type T] [--limit N]\n'); return 64; }
  const storage = await openStorage(config);
  try {
    const events = await createAuditLog(storage.db, logger).query({ type: flag(args, '--type'), limit: Number(flag(args, '--limit') ?? 50) });
    for (const e of events) out(JSON.stringify(e));
    return 0;
  } finally { await storage.close(); }
}

async function mailCommand(sub: string | undefined, args: string[], config: Config): Promise<number> {
  if (sub !== 'list') { process.stderr.write('mail list [--to <address>] [--limit N]\n'); return 64; }
  if (config.mode === 'production') {
    process.stderr.write('mail list: there is no development mailbox in production mode; mail is delivered by SMTP (mail.smtp) and its body is not kept\n');
    return 1;
  }
  const limit = Number(flag(args, '--limit') ?? 20);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) { process.stderr.write('mail list: --limit must be a whole number from 1 to 1000\n'); return 64; }
  const to = flag(args, '--to');
  if (args.includes('--to') && !to) { process.stderr.write('mail list: --to needs an address\n'); return 64; }
  const storage = await openStorage(config);
  try {
    await migrate(storage.db);
    const mails = await listMailbox(storage.db, { to, limit });
    if (!mails.length) { process.stderr.write(to ? `the development mailbox has no mail for ${to}\n` : 'the development mailbox is empty\n'); return 0; }
    out(mails.map((m) => `${m.createdAt.toISOString()}  To: ${m.to}\nSubject: ${m.subject}\n\n${m.text.trimEnd()}\n`).join(`\n${'='.repeat(72)}\n`));
    return 0;
  } finally { await storage.close(); }
}
