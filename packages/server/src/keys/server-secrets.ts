import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { Kek } from './kek.ts';

/**
 * Returns the named secret, creating it on first use. Kept (encrypted) in the database so every
 * instance sharing the database shares it; ON CONFLICT makes concurrent first starts agree.
 */
export async function getOrCreateSecret(db: Kysely<Database>, kek: Kek, name: string, bytes = 32): Promise<string> {
  const purpose = `server-secret:${name}`;
  await db.insertInto('server_secrets')
    .values({ name, value: kek.encrypt(randomBytes(bytes).toString('base64url'), purpose) })
    .onConflict((oc) => oc.column('name').doNothing()).execute();
  const row = await db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
  return kek.decrypt(row.value, purpose);
}
