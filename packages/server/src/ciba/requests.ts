import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

/** Sekisho's side of one backchannel request: what the device app lists and decides. */
export interface CibaRequest {
  /** The device app's id (never the auth_req_id, which stays between client and server). */
  id: string;
  authReqId: string;
  clientId: string;
  /** The person the request is about (the principal). */
  subject: string;
  bindingMessage: string | null;
  status: 'pending' | 'approved' | 'denied';
  decidedBy: string | null;
  expiresAt: Date;
  createdAt: Date;
}

/** Who may decide: the person (delegationId null) or a delegate acting under a delegation. */
export interface Approver { accountId: string; delegationId: string | null }

type Row = { id: string; auth_req_id: string; client_id: string; subject: string; binding_message: string | null; status: CibaRequest['status']; decided_by: string | null; expires_at: Date; created_at: Date };
const COLUMNS = ['id', 'auth_req_id', 'client_id', 'subject', 'binding_message', 'status', 'decided_by', 'expires_at', 'created_at'] as const;

function toRequest(r: Row): CibaRequest {
  return {
    id: r.id, authReqId: r.auth_req_id, clientId: r.client_id, subject: r.subject, bindingMessage: r.binding_message,
    status: r.status, decidedBy: r.decided_by, expiresAt: r.expires_at, createdAt: r.created_at,
  };
}

/** The ciba_requests and ciba_request_approvers tables (migration 0012). */
export function createCibaRequests(db: Kysely<Database>) {
  return {
    async create(input: { authReqId: string; clientId: string; subject: string; bindingMessage: string | null; expiresAt: Date; pollInterval: number; approvers: Approver[] }): Promise<CibaRequest> {
      const id = `req_${randomBytes(16).toString('base64url')}`;
      return db.transaction().execute(async (trx) => {
        const row = await trx.insertInto('ciba_requests').values({
          id, auth_req_id: input.authReqId, client_id: input.clientId, subject: input.subject, binding_message: input.bindingMessage,
          expires_at: input.expiresAt, poll_interval: input.pollInterval,
        }).returning(COLUMNS).executeTakeFirstOrThrow();
        if (input.approvers.length) {
          await trx.insertInto('ciba_request_approvers')
            .values(input.approvers.map((a) => ({ request_id: id, account_id: a.accountId, delegation_id: a.delegationId }))).execute();
        }
        return toRequest(row);
      });
    },

    /** Pending, unexpired requests an account may decide (its own, or as a delegate), newest first. */
    async pendingFor(accountId: string): Promise<Array<CibaRequest & { delegationId: string | null }>> {
      const rows = await db.selectFrom('ciba_requests as r').innerJoin('ciba_request_approvers as a', 'a.request_id', 'r.id')
        .leftJoin('delegations as d', 'd.id', 'a.delegation_id')
        .select([...COLUMNS.map((c) => `r.${c}` as const), 'a.delegation_id'])
        .where('a.account_id', '=', accountId).where('r.status', '=', 'pending').where('r.expires_at', '>', new Date())
        // A delegate whose delegation has ended (or lapsed) no longer sees what was routed to them.
        .where((eb) => eb.or([
          eb('a.delegation_id', 'is', null),
          eb.and([eb('d.status', '=', 'active'), eb('d.valid_from', '<=', sql<Date>`now()`), eb.or([eb('d.valid_until', 'is', null), eb('d.valid_until', '>', sql<Date>`now()`)])]),
        ]))
        .orderBy('r.created_at', 'desc').limit(50).execute();
      return rows.map((r) => ({ ...toRequest(r), delegationId: r.delegation_id }));
    },

    /** A request as one approver may see it; undefined if it is not theirs to decide (or unknown). */
    async forApprover(id: string, accountId: string): Promise<(CibaRequest & { delegationId: string | null }) | undefined> {
      const r = await db.selectFrom('ciba_requests as r').innerJoin('ciba_request_approvers as a', 'a.request_id', 'r.id')
        .select([...COLUMNS.map((c) => `r.${c}` as const), 'a.delegation_id'])
        .where('r.id', '=', id).where('a.account_id', '=', accountId).executeTakeFirst();
      return r && { ...toRequest(r), delegationId: r.delegation_id };
    },

    /** Requests from a client about a person still waiting for a decision. */
    async pendingCount(clientId: string, subject: string): Promise<number> {
      const row = await db.selectFrom('ciba_requests').select((eb) => eb.fn.countAll<string>().as('n'))
        .where('client_id', '=', clientId).where('subject', '=', subject).where('status', '=', 'pending').where('expires_at', '>', new Date())
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async approvers(id: string): Promise<Approver[]> {
      const rows = await db.selectFrom('ciba_request_approvers').select(['account_id', 'delegation_id']).where('request_id', '=', id).execute();
      return rows.map((r) => ({ accountId: r.account_id, delegationId: r.delegation_id }));
    },

    /**
     * Takes the decision: one UPDATE that only a pending, unexpired request passes, so of two
     * devices deciding at once exactly one wins. Undefined when it was decided or expired already.
     */
    async decide(id: string, decision: { status: 'approved' | 'denied'; by: string; deviceId: string }): Promise<CibaRequest | undefined> {
      const row = await db.updateTable('ciba_requests')
        .set({ status: decision.status, decided_by: decision.by, decided_device: decision.deviceId, decided_at: new Date() })
        .where('id', '=', id).where('status', '=', 'pending').where('expires_at', '>', new Date())
        .returning(COLUMNS).executeTakeFirst();
      return row && toRequest(row);
    },

    /** Gives a decided request back (the grant could not be written): pending again, if not expired. */
    async undecide(id: string): Promise<void> {
      await db.updateTable('ciba_requests').set({ status: 'pending', decided_by: null, decided_device: null, decided_at: null }).where('id', '=', id).execute();
    },

    async recordGrant(id: string, grantId: string): Promise<void> {
      await db.updateTable('ciba_requests').set({ grant_id: grantId }).where('id', '=', id).execute();
    },

    /**
     * The polling pace (CIBA §7.3, digest B6): a poll is let through only if the interval has
     * passed since the last one let through, decided by one UPDATE so parallel polls cannot both
     * pass. 'slow_down' otherwise; 'unknown' for a request Sekisho does not track for this client.
     */
    async pollGate(authReqId: string, clientId: string): Promise<'ok' | 'slow_down' | 'unknown'> {
      const passed = await db.updateTable('ciba_requests')
        .set({ next_poll_at: sql<Date>`now() + make_interval(secs => poll_interval)` })
        .where('auth_req_id', '=', authReqId).where('client_id', '=', clientId)
        .where((eb) => eb.or([eb('next_poll_at', 'is', null), eb('next_poll_at', '<=', sql<Date>`now()`)]))
        .returning('id').executeTakeFirst();
      if (passed) return 'ok';
      const known = await db.selectFrom('ciba_requests').select('id').where('auth_req_id', '=', authReqId).where('client_id', '=', clientId).executeTakeFirst();
      return known ? 'slow_down' : 'unknown';
    },

    /** Requests past their expiry, kept a day for the device history, then deleted. */
    async purgeExpired(keepSeconds = 86_400): Promise<number> {
      const result = await db.deleteFrom('ciba_requests').where('expires_at', '<', new Date(Date.now() - keepSeconds * 1000)).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
export type CibaRequests = ReturnType<typeof createCibaRequests>;
