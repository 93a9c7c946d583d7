import { createHash, randomInt } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

/**
 * One-time recovery codes, for when the second factor is lost. Ten per account; generating again
 * replaces them all.
 */

export const RECOVERY_CODE_COUNT = 10;
const CODE_LENGTH = 10;
// No 0/O, 1/I/L: codes are read off paper and typed back in. 31 symbols × 10 ≈ 49.5 bits each.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const NORMALISED = new RegExp(`^[${ALPHABET}]{${CODE_LENGTH}}$`);

/** Upper case without spaces or hyphens, or undefined when it cannot be a code at all. */
export function normaliseRecoveryCode(input: string): string | undefined {
  const code = input.replace(/[\s-]+/g, '').toUpperCase();
  return NORMALISED.test(code) ? code : undefined;
}

/**
 * SHA-256, not a slow password hash: the codes are random with ~49.5 bits each, so there is no
 * dictionary to slow down, and a fast hash keeps use() a single indexed UPDATE. The account id is
 * hashed in too, so a stolen table cannot be attacked for all accounts' codes at once.
 */
function hashCode(accountId: string, normalised: string): string {
  return createHash('sha256').update(`${accountId}\0${normalised}`).digest('hex');
}

function randomCode(): string {
  let code = '';
  // randomInt is uniform (no modulo bias) over the 31 symbols.
  for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

export function createRecoveryCodes(db: Kysely<Database>) {
  return {
    /** Replaces the account's codes with new ones and returns them, grouped xxxxx-xxxxx. Shown once: only hashes are kept. */
    async generate(accountId: string): Promise<string[]> {
      const codes = new Set<string>();
      while (codes.size < RECOVERY_CODE_COUNT) codes.add(randomCode());
      await db.transaction().execute(async (trx) => {
        // Locking the account serialises two generations at once, which would otherwise both
        // delete the old codes and leave twenty behind.
        await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
        await trx.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
        await trx.insertInto('recovery_codes')
          .values([...codes].map((c) => ({ account_id: accountId, code_hash: hashCode(accountId, c) })))
          .execute();
      });
      return [...codes].map((c) => `${c.slice(0, 5)}-${c.slice(5)}`);
    },

    /** Uses up a code; true once per code. One conditional UPDATE, so racing requests cannot both win. */
    async use(accountId: string, code: string): Promise<boolean> {
      const normalised = normaliseRecoveryCode(code);
      if (!normalised) return false;
      const row = await db.updateTable('recovery_codes').set({ used_at: sql<Date>`now()` })
        .where('account_id', '=', accountId)
        .where('code_hash', '=', hashCode(accountId, normalised))
        .where('used_at', 'is', null)
        .returning('account_id')
        .executeTakeFirst();
      return row !== undefined;
    },

    /** How many codes are left unused. */
    async remaining(accountId: string): Promise<number> {
      const row = await db.selectFrom('recovery_codes').select(sql<string>`count(*)`.as('n'))
        .where('account_id', '=', accountId).where('used_at', 'is', null).executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async removeAll(accountId: string): Promise<void> {
      await db.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
    },
  };
}
export type RecoveryCodes = ReturnType<typeof createRecoveryCodes>;
