import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

export interface LoginAttempt {
  accountId?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  deviceId?: string | undefined;
  method: string;
  result: 'success' | 'failure' | 'locked';
  acr?: string | undefined;
}

export interface LoginRecord {
  occurredAt: Date;
  ip: string | null;
  userAgent: string | null;
  method: string;
  result: string;
  acr: string | null;
}

/** Sign-in history a person can read on their account page; also tells new devices apart. */
export function createLoginHistory(db: Kysely<Database>) {
  return {
    async record(a: LoginAttempt): Promise<void> {
      await db.insertInto('login_history').values({
        account_id: a.accountId ?? null, ip: a.ip ?? null, user_agent: a.userAgent?.slice(0, 400) ?? null,
        device_id: a.deviceId ?? null, method: a.method, result: a.result, acr: a.acr ?? null,
      }).execute();
    },
    /** Whether this device (its long-lived cookie) has signed in to this account before. */
    async isKnownDevice(accountId: string, deviceId: string | undefined): Promise<boolean> {
      if (!deviceId) return false;
      const row = await db.selectFrom('login_history').select('id')
        .where('account_id', '=', accountId).where('device_id', '=', deviceId).where('result', '=', 'success')
        .limit(1).executeTakeFirst();
      return row !== undefined;
    },
    async hasSignedInBefore(accountId: string): Promise<boolean> {
      const row = await db.selectFrom('login_history').select('id').where('account_id', '=', accountId).where('result', '=', 'success').limit(1).executeTakeFirst();
      return row !== undefined;
    },
    async list(accountId: string, limit = 50): Promise<LoginRecord[]> {
      const rows = await db.selectFrom('login_history').select(['occurred_at', 'ip', 'user_agent', 'method', 'result', 'acr'])
        .where('account_id', '=', accountId).orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map((r) => ({ occurredAt: r.occurred_at, ip: r.ip, userAgent: r.user_agent, method: r.method, result: r.result, acr: r.acr }));
    },
  };
}
export type LoginHistory = ReturnType<typeof createLoginHistory>;
