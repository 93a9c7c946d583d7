import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { ConsentScope } from './ledger.ts';

export type GrantDuration = 'once' | 'ongoing';
/** Who ended a grant early: the person, the client (Grant Management API, token revocation), an operator, or reuse detection. */
export type GrantEndedBy = 'subject' | 'client' | 'admin' | 'reuse';
export type GrantStatus = 'active' | 'used' | 'revoked' | 'expired';

/** Sekisho's record of a grant: what it holds, for how long, under which notice, and how it ended. */
export interface GrantTerms {
  id: string;
  accountId: string;
  clientId: string;
  duration: GrantDuration;
  /** 'expired' is computed: an active grant past its expiry. */
  status: GrantStatus;
  parts: ConsentScope;
  noticeVersion: number | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date | null;
  usedAt: Date | null;
  endedAt: Date | null;
  endedBy: string | null;
  endReason: string | null;
  /** The delegate who gave the grant for the person (guardian or proxy consent); null: the person. */
  actor: string | null;
  delegationId: string | null;
}

function toTerms(r: { id: string; account_id: string; client_id: string; duration: GrantDuration; status: 'active' | 'used' | 'revoked' | 'expired'; parts: unknown; notice_version: number | null; created_at: Date; updated_at: Date; expires_at: Date | null; used_at: Date | null; ended_at: Date | null; ended_by: string | null; end_reason: string | null; actor: string | null; delegation_id: string | null }, now = Date.now()): GrantTerms {
  const expired = r.status === 'expired' || (r.status === 'active' && r.expires_at !== null && r.expires_at.getTime() <= now);
  return {
    id: r.id, accountId: r.account_id, clientId: r.client_id, duration: r.duration, status: expired ? 'expired' : r.status,
    parts: r.parts as ConsentScope, noticeVersion: r.notice_version, createdAt: r.created_at, updatedAt: r.updated_at,
    expiresAt: r.expires_at, usedAt: r.used_at, endedAt: r.ended_at ?? (expired ? r.expires_at : null), endedBy: r.ended_by, endReason: r.end_reason,
    actor: r.actor, delegationId: r.delegation_id,
  };
}

/** The consent_grants table (migration 0011). */
export function createGrantTerms(db: Kysely<Database>) {
  return {
    /** After a consent decision: the grant's terms now (created, or updated by a merge, replace or re-consent). */
    async record(t: { id: string; accountId: string; clientId: string; duration: GrantDuration; parts: ConsentScope; noticeVersion: number | null; expiresAt: Date | null; actor?: string; delegationId?: string }): Promise<void> {
      await db.insertInto('consent_grants').values({
        id: t.id, account_id: t.accountId, client_id: t.clientId, duration: t.duration, status: 'active',
        parts: JSON.stringify(t.parts), notice_version: t.noticeVersion, expires_at: t.expiresAt,
        actor: t.actor ?? null, delegation_id: t.delegationId ?? null,
      }).onConflict((oc) => oc.column('id').doUpdateSet({
        parts: JSON.stringify(t.parts), notice_version: t.noticeVersion, expires_at: t.expiresAt, updated_at: sql<Date>`now()`,
      }).where('consent_grants.status', '=', 'active')).execute();
    },

    async find(id: string): Promise<GrantTerms | undefined> {
      if (!id || id.length > 100) return undefined;
      const row = await db.selectFrom('consent_grants').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toTerms(row);
    },

    /** Every grant of a person, newest first, ended ones included (for the retention period). */
    async forAccount(accountId: string, limit = 500): Promise<GrantTerms[]> {
      const rows = await db.selectFrom('consent_grants').selectAll().where('account_id', '=', accountId)
        .orderBy('created_at', 'desc').limit(limit).execute();
      const now = Date.now();
      return rows.map((r) => toTerms(r, now));
    },

    /**
     * The person's most recent active, ongoing grant for a client: the consent they gave is
     * remembered across sign-ins, not only within one browser session.
     */
    async latestActive(accountId: string, clientId: string): Promise<string | undefined> {
      const row = await db.selectFrom('consent_grants').select('id')
        .where('account_id', '=', accountId).where('client_id', '=', clientId).where('status', '=', 'active').where('duration', '=', 'ongoing')
        // A grant a guardian or proxy gave is theirs to have given: the person's own sign-in does not reuse it.
        .where('actor', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
        .orderBy('created_at', 'desc').limit(1).executeTakeFirst();
      return row?.id;
    },

    /**
     * Grants whose time has come, claimed in one statement (so each expiry is recorded once, by
     * whichever process sweeps first): the caller writes their ledger records.
     */
    async sweepExpired(limit = 500): Promise<GrantTerms[]> {
      const rows = await db.updateTable('consent_grants').set({ status: 'expired', ended_at: sql<Date>`expires_at`, ended_by: 'expiry', updated_at: sql<Date>`now()` })
        .where('id', 'in', (eb) => eb.selectFrom('consent_grants').select('id').where('status', '=', 'active').where('expires_at', '<=', new Date()).limit(limit))
        .where('status', '=', 'active')
        .returningAll().execute();
      return rows.map((r) => toTerms(r));
    },

    /** A person's ended grants (withdrawn, used, expired), most recently ended first. */
    async endedForAccount(accountId: string, limit = 200): Promise<GrantTerms[]> {
      const rows = await db.selectFrom('consent_grants').selectAll().where('account_id', '=', accountId)
        .where((eb) => eb.or([eb('status', '!=', 'active'), eb('expires_at', '<=', new Date())]))
        .orderBy(sql`coalesce(ended_at, expires_at)`, 'desc').limit(limit).execute();
      const now = Date.now();
      return rows.map((r) => toTerms(r, now));
    },

    /** What the grant holds now (after a part was withdrawn). */
    async updateParts(id: string, parts: ConsentScope): Promise<void> {
      await db.updateTable('consent_grants').set({ parts: JSON.stringify(parts), updated_at: sql<Date>`now()` })
        .where('id', '=', id).execute();
    },

    /** A one-time grant's token was issued: it is used up (in one statement, so only once). */
    async markUsed(id: string, until: Date): Promise<boolean> {
      const r = await db.updateTable('consent_grants').set({ status: 'used', used_at: sql<Date>`now()`, expires_at: until, updated_at: sql<Date>`now()` })
        .where('id', '=', id).where('duration', '=', 'once').where('status', '=', 'active').executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** The grant ended before its time: withdrawn by the person, the client or an operator. Its terms as they were, if it was not ended already. */
    async end(id: string, by: GrantEndedBy, reason: string): Promise<GrantTerms | undefined> {
      const row = await db.updateTable('consent_grants').set({ status: 'revoked', ended_at: sql<Date>`now()`, ended_by: by, end_reason: reason.slice(0, 200), updated_at: sql<Date>`now()` })
        .where('id', '=', id).where('status', 'in', ['active', 'used']).returningAll().executeTakeFirst();
      return row && toTerms(row);
    },

    /** Every active grant given under a delegation ends (the delegation ended): the delegate's authority is gone. */
    async endForDelegation(delegationId: string, reason: string): Promise<GrantTerms[]> {
      const rows = await db.updateTable('consent_grants').set({ status: 'revoked', ended_at: sql<Date>`now()`, ended_by: 'admin', end_reason: reason.slice(0, 200), updated_at: sql<Date>`now()` })
        .where('delegation_id', '=', delegationId).where('status', 'in', ['active', 'used']).returningAll().execute();
      return rows.map((r) => toTerms(r));
    },

    /** Every active grant of a client ends (the client was removed). */
    async endForClient(clientId: string, reason: string): Promise<GrantTerms[]> {
      const rows = await db.updateTable('consent_grants').set({ status: 'revoked', ended_at: sql<Date>`now()`, ended_by: 'admin', end_reason: reason.slice(0, 200), updated_at: sql<Date>`now()` })
        .where('client_id', '=', clientId).where('status', 'in', ['active', 'used']).returningAll().execute();
      return rows.map((r) => toTerms(r));
    },
  };
}
export type GrantTermsStore = ReturnType<typeof createGrantTerms>;
