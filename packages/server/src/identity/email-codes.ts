import { createHash, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

export const EMAIL_CODE_MINUTES = 10;
/** Wrong guesses a code survives: 5 tries at a 6-digit code is a 1-in-200,000 chance. */
const MAX_ATTEMPTS = 5;
/** Codes one address may be sent per hour, so the form cannot be used to flood a mailbox. */
const MAX_PER_HOUR = 5;

type Purpose = 'signup' | 'recovery' | 'email-change';

const hash = (id: string, code: string) => createHash('sha256').update(`${id}:${code}`).digest('hex');

/**
 * One-time codes sent by e-mail. Stored hashed; every check counts an attempt in the same
 * statement that reads the row, and a correct code is consumed by one UPDATE, so a code works
 * once and cannot be guessed by many parallel tries.
 */
export function createEmailCodes(db: Kysely<Database>) {
  return {
    /** A new code for an address, or 'too-many' when the address had enough this hour. */
    async issue(purpose: Purpose, email: string, accountId?: string): Promise<{ id: string; code: string } | 'too-many'> {
      const recent = await db.selectFrom('email_challenges').select(sql<string>`count(*)`.as('n'))
        .where('email', '=', email).where('purpose', '=', purpose).where('created_at', '>', new Date(Date.now() - 3600_000))
        .executeTakeFirstOrThrow();
      if (Number(recent.n) >= MAX_PER_HOUR) return 'too-many';
      const id = randomUUID();
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await db.insertInto('email_challenges').values({
        id, purpose, email, account_id: accountId ?? null, code_hash: hash(id, code),
        expires_at: new Date(Date.now() + EMAIL_CODE_MINUTES * 60_000),
      }).execute();
      return { id, code };
    },

    /** Checks a code; on success the challenge is consumed and its address returned. */
    async verify(purpose: Purpose, id: string, code: string): Promise<{ ok: true; email: string; accountId: string | null } | { ok: false; reason: 'wrong' | 'expired' }> {
      if (!/^[0-9a-f-]{36}$/.test(id)) return { ok: false, reason: 'expired' };
      const row = await db.updateTable('email_challenges').set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('id', '=', id).where('purpose', '=', purpose).where('consumed_at', 'is', null)
        .where('expires_at', '>', new Date()).where('attempts', '<', MAX_ATTEMPTS)
        .returning(['code_hash', 'email', 'account_id']).executeTakeFirst();
      if (!row) return { ok: false, reason: 'expired' };
      const given = Buffer.from(hash(id, code.replace(/\s/g, '')));
      if (!timingSafeEqual(given, Buffer.from(row.code_hash))) return { ok: false, reason: 'wrong' };
      const consumed = await db.updateTable('email_challenges').set({ consumed_at: new Date() })
        .where('id', '=', id).where('consumed_at', 'is', null).returning('id').executeTakeFirst();
      return consumed ? { ok: true, email: row.email, accountId: row.account_id } : { ok: false, reason: 'expired' };
    },

    async purgeExpired(): Promise<number> {
      const r = await db.deleteFrom('email_challenges').where('expires_at', '<', new Date(Date.now() - 86400_000)).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
export type EmailCodes = ReturnType<typeof createEmailCodes>;
