import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { dummyHash, hashPassword, verifyPassword } from '../identity/password.ts';

/**
 * CIBA user codes (CIBA §7.1 `user_code`): a secret the person chose so that only someone who
 * knows it can make their phone ring. Hashed like a password (scrypt, off the event loop), and
 * compared with the same work whether or not the person set one.
 */
export function createCibaUserCodes(db: Kysely<Database>) {
  return {
    async set(accountId: string, code: string): Promise<void> {
      const hash = await hashPassword(code);
      await db.insertInto('ciba_user_codes').values({ account_id: accountId, code_hash: hash })
        .onConflict((oc) => oc.column('account_id').doUpdateSet({ code_hash: hash, updated_at: new Date() })).execute();
    },
    async clear(accountId: string): Promise<void> {
      await db.deleteFrom('ciba_user_codes').where('account_id', '=', accountId).execute();
    },
    async isSet(accountId: string): Promise<boolean> {
      return (await db.selectFrom('ciba_user_codes').select('account_id').where('account_id', '=', accountId).executeTakeFirst()) !== undefined;
    },
    async check(accountId: string, code: string): Promise<boolean> {
      const row = await db.selectFrom('ciba_user_codes').select('code_hash').where('account_id', '=', accountId).executeTakeFirst();
      const ok = await verifyPassword(code, row?.code_hash ?? await dummyHash);
      return ok && row !== undefined;
    },
  };
}
export type CibaUserCodes = ReturnType<typeof createCibaUserCodes>;
