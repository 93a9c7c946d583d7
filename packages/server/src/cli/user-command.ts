import type { Kysely } from 'kysely';
import type { Config } from '../config/schema.ts';
import { openStorage } from '../storage/db.ts';
import { migrate } from '../storage/migrate.ts';
import type { Database } from '../storage/schema.ts';
import { createAccounts, type Account } from '../identity/accounts.ts';

/**
 * What the `sekisho user <sub> <username> …` commands share: reading their arguments, writing
 * their output and refusals, and opening the storage on the account they name.
 */

export function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The n-th argument, unless it is a flag. */
export const positional = (args: string[], n: number): string | undefined => {
  const value = args[n];
  return value === undefined || value.startsWith('--') ? undefined : value;
};

/** A line, or a value as indented JSON, on stdout. */
export const out = (value: unknown) => process.stdout.write(typeof value === 'string' ? value + '\n' : JSON.stringify(value, null, 2) + '\n');

/** The message on stderr; returns the exit code. */
export const fail = (code: number, message: string) => { process.stderr.write(message + '\n'); return code; };

/**
 * Opens (and migrates) the storage, finds the account by its username, and runs `fn` on it; the
 * storage is closed after. No such account: `no account <username>`, exit 1, and `fn` does not run.
 */
export async function withAccount(config: Config, username: string, fn: (db: Kysely<Database>, account: Account) => Promise<number>): Promise<number> {
  const storage = await openStorage(config);
  try {
    await migrate(storage.db);
    const account = await createAccounts(storage.db).findByLogin(username);
    if (!account) return fail(1, `no account ${username}`);
    return await fn(storage.db, account);
  } finally { await storage.close(); }
}
