import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import { openStorage } from '../storage/db.ts';
import { migrate } from '../storage/migrate.ts';
import { createClientsRepository } from '../storage/clients-repo.ts';
import { createAuditLog } from '../audit/audit-log.ts';
import { createConsentNotices, InvalidNoticeError, noticeRef } from '../consent/notices.ts';

export const NOTICE_HELP = `  client notice publish <client_id> --file <json|->
                                publish a new version of the client's notice (docs/consent-notices.md);
                                identical content makes none; a new version asks everyone again
  client notice show <client_id> [--version N]
                                print the current (or that) version of the notice as JSON
  client notices <client_id>    list the notice's versions: number, publication time, hash`;

const USAGE = 'client notice publish <client_id> --file <json|-> | client notice show <client_id> [--version N] | client notices <client_id>';

const out = (value: unknown) => process.stdout.write(typeof value === 'string' ? value + '\n' : JSON.stringify(value, null, 2) + '\n');
const fail = (message: string, code: number) => { process.stderr.write(`${message}\n`); return code; };

async function readInput(file: string): Promise<string> {
  if (file !== '-') return readFileSync(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `sekisho client notice publish | show` and `sekisho client notices`: a client's consent notice
 * and its versions. Reading works for a removed client too (its versions outlive it).
 */
export async function noticeCommand(sub: 'notice' | 'notices', args: string[], config: Config, logger: Logger): Promise<number> {
  const [action, clientId] = sub === 'notices' ? ['list', args[0]] : [args[0], args[1]];
  if (!clientId || clientId.startsWith('--') || !['publish', 'show', 'list'].includes(action ?? '')) return fail(USAGE, 64);
  const file = action === 'publish' ? args[args.indexOf('--file') + 1] : undefined;
  if (action === 'publish' && (!args.includes('--file') || !file)) return fail('client notice publish needs --file <path|->', 64);
  const rawVersion = args.includes('--version') ? args[args.indexOf('--version') + 1] ?? '' : undefined;
  if (rawVersion !== undefined && !/^[1-9][0-9]{0,8}$/.test(rawVersion)) return fail('--version must be a whole number from 1', 64);

  let input: unknown;
  if (file) {
    try { input = JSON.parse(await readInput(file)); } catch (err) { return fail(`cannot read the notice: ${(err as Error).message}`, 65); }
  }
  const storage = await openStorage(config);
  try {
    await migrate(storage.db);
    const notices = createConsentNotices(storage.db, { cacheSeconds: 0 });
    if (action === 'list') {
      const versions = await notices.list(clientId);
      if (!versions.length) return fail(`client ${clientId} has no notice`, 1);
      for (const v of versions) out(`${v.version}\t${v.publishedAt.toISOString()}\t${v.hash}`);
      return 0;
    }
    if (action === 'show') {
      const notice = rawVersion ? await notices.get(clientId, Number(rawVersion)) : await notices.current(clientId);
      if (!notice) return fail(rawVersion ? `client ${clientId} has no notice version ${rawVersion}` : `client ${clientId} has no notice`, 1);
      out({ client_id: clientId, version: notice.version, published_at: notice.publishedAt.toISOString(), hash: notice.hash, content: notice.content });
      return 0;
    }
    if (!(await createClientsRepository(storage.db).get(clientId))) return fail(`no client ${clientId}`, 1);
    try {
      const published = await notices.publish(clientId, input);
      if (!published.unchanged) {
        await createAuditLog(storage.db, logger).record({
          type: 'consent.notice_published', outcome: 'success', clientId, details: { version: published.version, hash: published.hash, via: 'cli' },
        });
      }
      out({ client_id: clientId, version: published.version, unchanged: published.unchanged, notice: noticeRef(clientId, published.version), hash: published.hash });
      return 0;
    } catch (err) {
      if (err instanceof InvalidNoticeError) return fail(err.issues.map((i) => `invalid notice: ${i.path || '(notice)'}: ${i.message}`).join('\n'), 65);
      throw err;
    }
  } finally { await storage.close(); }
}
