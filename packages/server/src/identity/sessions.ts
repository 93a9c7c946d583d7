import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

export interface ActiveSession {
  uid: string;
  signedInAt: Date | null;
  expiresAt: Date | null;
  acr: string | null;
  method: string | null;
  ip: string | null;
  userAgent: string | null;
}

/**
 * A person's sign-in sessions: oidc-provider's Session records (the source of truth for single
 * sign-on) with what Sekisho noted when each began (device, address, method).
 */
export function createSessions(db: Kysely<Database>) {
  const sessionRows = (accountId: string) => db.selectFrom('oidc_models')
    .where('model', '=', 'Session')
    .where(sql<string>`payload->>'accountId'`, '=', accountId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]));

  return {
    async noteStarted(s: { sessionUid: string; accountId: string; ip?: string | undefined; userAgent?: string | undefined; deviceId?: string | undefined; method: string; acr: string }): Promise<void> {
      const values = {
        session_uid: s.sessionUid, account_id: s.accountId, ip: s.ip ?? null, user_agent: s.userAgent?.slice(0, 400) ?? null,
        device_id: s.deviceId ?? null, method: s.method, acr: s.acr,
      };
      await db.insertInto('session_details').values(values)
        .onConflict((oc) => oc.column('session_uid').doUpdateSet({ method: values.method, acr: values.acr, ip: values.ip, user_agent: values.user_agent }))
        .execute();
    },

    async list(accountId: string): Promise<ActiveSession[]> {
      const rows = await sessionRows(accountId)
        .leftJoin('session_details as d', (j) => j.onRef('d.session_uid', '=', 'oidc_models.uid'))
        .select([
          sql<string>`oidc_models.uid`.as('uid'),
          sql<string | null>`oidc_models.payload->>'loginTs'`.as('login_ts'),
          sql<string | null>`oidc_models.payload->>'acr'`.as('acr'),
          'oidc_models.expires_at', 'd.method', 'd.ip', 'd.user_agent',
        ])
        .orderBy(sql`oidc_models.payload->>'loginTs'`, 'desc')
        .execute();
      return rows.map((r) => ({
        uid: r.uid, signedInAt: r.login_ts ? new Date(Number(r.login_ts) * 1000) : null, expiresAt: r.expires_at,
        acr: r.acr, method: r.method ?? null, ip: r.ip ?? null, userAgent: r.user_agent ?? null,
      }));
    },

    /** Ends one of the person's sessions (never someone else's). */
    async end(accountId: string, uid: string): Promise<boolean> {
      const r = await db.deleteFrom('oidc_models').where('model', '=', 'Session')
        .where(sql<string>`payload->>'accountId'`, '=', accountId).where('uid', '=', uid).executeTakeFirst();
      await db.deleteFrom('session_details').where('session_uid', '=', uid).where('account_id', '=', accountId).execute();
      return r.numDeletedRows > 0n;
    },

    /** Ends every session of the person, except `keepUid` when given. */
    async endAll(accountId: string, keepUid?: string): Promise<number> {
      let q = db.deleteFrom('oidc_models').where('model', '=', 'Session').where(sql<string>`payload->>'accountId'`, '=', accountId);
      if (keepUid) q = q.where((eb) => eb.or([eb('uid', 'is', null), eb('uid', '!=', keepUid)]));
      const r = await q.executeTakeFirst();
      let d = db.deleteFrom('session_details').where('account_id', '=', accountId);
      if (keepUid) d = d.where('session_uid', '!=', keepUid);
      await d.execute();
      return Number(r.numDeletedRows);
    },
  };
}
export type Sessions = ReturnType<typeof createSessions>;
