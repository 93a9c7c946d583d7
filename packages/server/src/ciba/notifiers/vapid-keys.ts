import type { Kysely } from 'kysely';
import webpush from 'web-push';
import type { Kek } from '../../keys/kek.ts';
import type { Database } from '../../storage/schema.ts';

export interface VapidKeyPair { publicKey: string; privateKey: string }

const NAME = 'vapid-keys';
const PURPOSE = `server-secret:${NAME}`;

function parse(json: string): VapidKeyPair {
  const value: unknown = JSON.parse(json);
  if (value && typeof value === 'object' && 'publicKey' in value && 'privateKey' in value
    && typeof value.publicKey === 'string' && typeof value.privateKey === 'string') {
    return { publicKey: value.publicKey, privateKey: value.privateKey };
  }
  throw new Error('stored VAPID keys are malformed');
}

/**
 * The VAPID key pair (RFC 8292) that signs every push. Browsers bind a subscription to the public
 * key, so it must stay the same across restarts and across every process sharing the database:
 * the configured pair, or one generated on first start and kept encrypted in server_secrets.
 * ON CONFLICT DO NOTHING then a read makes concurrent first starts agree on the first insert.
 */
export async function loadVapidKeys(db: Kysely<Database>, kek: Kek, configured?: Partial<VapidKeyPair>): Promise<VapidKeyPair> {
  if (configured?.publicKey && configured.privateKey) return { publicKey: configured.publicKey, privateKey: configured.privateKey };
  if (configured?.publicKey || configured?.privateKey) throw new Error('VAPID publicKey and privateKey are configured together or not at all');
  const generated = webpush.generateVAPIDKeys();
  await db.insertInto('server_secrets')
    .values({ name: NAME, value: kek.encrypt(JSON.stringify(generated), PURPOSE) })
    .onConflict((oc) => oc.column('name').doNothing()).execute();
  const row = await db.selectFrom('server_secrets').select('value').where('name', '=', NAME).executeTakeFirstOrThrow();
  return parse(kek.decrypt(row.value, PURPOSE));
}
