import { createHash, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { canonicalJson } from './canonical-json.ts';

/** What a decision concerned: the parts of a grant, in the terms the protocol uses. */
export interface ConsentScope {
  scopes: string[];
  claims: string[];
  /** RFC 8707 resource indicator → scopes for it. */
  resources: Record<string, string[]>;
  /** RFC 9396 authorization details, as requested or as granted (possibly enriched). */
  authorizationDetails: Array<Record<string, unknown>>;
}

export type ConsentAction = 'create' | 'merge' | 'replace' | 'revoke' | 'expire';
export type ConsentDecision = 'approved' | 'partial' | 'denied' | 'revoked' | 'expired';
export type ConsentChannel = 'web' | 'ciba' | 'app' | 'api' | 'admin';

export interface ConsentRecordInput {
  subject: string;
  actor?: string | undefined;
  clientId: string;
  grantId?: string | undefined;
  action: ConsentAction;
  decision: ConsentDecision;
  channel: ConsentChannel;
  noticeVersion?: string | undefined;
  /** What the screen showed, as a value; its canonical JSON is hashed, not stored. */
  shown?: unknown;
  requested: ConsentScope;
  granted: ConsentScope;
  /** Where the decision was made: ip, userAgent, acr, bindingMessage… (no secrets). */
  context: Record<string, unknown>;
}

export interface ConsentRecord {
  seq: number;
  id: string;
  recordedAt: Date;
  subject: string;
  actor: string | null;
  clientId: string;
  grantId: string | null;
  action: ConsentAction;
  decision: ConsentDecision;
  channel: ConsentChannel;
  noticeVersion: string | null;
  shownHash: string | null;
  requested: ConsentScope;
  granted: ConsentScope;
  context: Record<string, unknown>;
  retainUntil: Date;
  prevHash: string;
  hash: string;
}

export type ChainCheck =
  | { ok: true; records: number; head: string }
  | { ok: false; records: number; seq: number; id: string; reason: 'hash' | 'link' };

/** The consent screen (interaction) already has its decision: a second post lost the race. */
export class DecisionAlreadyRecordedError extends Error {
  constructor() { super('this consent screen already has a recorded decision'); }
}

/** The chain's anchor: the "previous hash" of the first record. */
export const GENESIS = '0'.repeat(64);
// Appends take this advisory lock, so two decisions at once cannot both link to the same record.
const LEDGER_LOCK = 727_274_005;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The hash of what a screen showed (its canonical JSON). */
export function shownHash(shown: unknown): string {
  return sha256(canonicalJson(shown));
}

/** The hashed content of a record: every field but its position and its own hash. */
function hashInput(r: Omit<ConsentRecord, 'seq' | 'hash'>): string {
  return canonicalJson({
    v: 1, id: r.id, recorded_at: r.recordedAt.toISOString(), subject: r.subject, actor: r.actor, client_id: r.clientId,
    grant_id: r.grantId, action: r.action, decision: r.decision, channel: r.channel, notice_version: r.noticeVersion,
    shown_hash: r.shownHash, requested: r.requested, granted: r.granted, context: r.context,
    retain_until: r.retainUntil.toISOString(), prev_hash: r.prevHash,
  });
}

function toRecord(r: { seq: string | number; id: string; recorded_at: Date; subject: string; actor: string | null; client_id: string; grant_id: string | null; action: ConsentAction; decision: ConsentDecision; channel: ConsentChannel; notice_version: string | null; shown_hash: string | null; requested: unknown; granted: unknown; context: unknown; retain_until: Date; prev_hash: string; hash: string }): ConsentRecord {
  return {
    seq: Number(r.seq), id: r.id, recordedAt: r.recorded_at, subject: r.subject, actor: r.actor, clientId: r.client_id, grantId: r.grant_id,
    action: r.action, decision: r.decision, channel: r.channel, noticeVersion: r.notice_version, shownHash: r.shown_hash,
    requested: r.requested as ConsentScope, granted: r.granted as ConsentScope, context: r.context as Record<string, unknown>,
    retainUntil: r.retain_until, prevHash: r.prev_hash, hash: r.hash,
  };
}

/**
 * The consent ledger (ISO/IEC TS 27560 records): append-only, one record per decision, each
 * hash-chained to the one before. `retentionDays` is how long a record must be kept after it was
 * made (the receipt says so); records are never rewritten, also when the account is deleted.
 */
export function createConsentLedger(db: Kysely<Database>, options: { retentionDays: number }) {
  return {
    async append(input: ConsentRecordInput): Promise<ConsentRecord> {
      // A JavaScript date has milliseconds, which timestamptz keeps exactly: it reads back as hashed.
      const recordedAt = new Date();
      const draft = {
        id: randomUUID(), recordedAt, subject: input.subject, actor: input.actor ?? null, clientId: input.clientId,
        grantId: input.grantId ?? null, action: input.action, decision: input.decision, channel: input.channel,
        noticeVersion: input.noticeVersion ?? null, shownHash: input.shown === undefined ? null : shownHash(input.shown),
        // Round-tripped through JSON: what is hashed is exactly what jsonb will hand back.
        requested: JSON.parse(JSON.stringify(input.requested)) as ConsentScope,
        granted: JSON.parse(JSON.stringify(input.granted)) as ConsentScope,
        context: JSON.parse(JSON.stringify(input.context)) as Record<string, unknown>,
        retainUntil: new Date(recordedAt.getTime() + options.retentionDays * 86_400_000),
      };
      return db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(${LEDGER_LOCK})`.execute(trx);
        // Taken under the lock, so records' times follow the chain's order.
        draft.recordedAt = new Date();
        draft.retainUntil = new Date(draft.recordedAt.getTime() + options.retentionDays * 86_400_000);
        const last = await trx.selectFrom('consent_records').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst();
        const linked = { ...draft, prevHash: last?.hash ?? GENESIS };
        const hash = sha256(hashInput(linked));
        const row = await trx.insertInto('consent_records').values({
          id: linked.id, recorded_at: linked.recordedAt, subject: linked.subject, actor: linked.actor, client_id: linked.clientId,
          grant_id: linked.grantId, action: linked.action, decision: linked.decision, channel: linked.channel,
          notice_version: linked.noticeVersion, shown_hash: linked.shownHash, requested: JSON.stringify(linked.requested),
          granted: JSON.stringify(linked.granted), context: JSON.stringify(linked.context), retain_until: linked.retainUntil,
          prev_hash: linked.prevHash, hash,
        }).returning('seq').executeTakeFirstOrThrow();
        return { ...linked, seq: Number(row.seq), hash };
      }).catch((err: unknown) => {
        if (String((err as Error).message).includes('consent_records_one_decision_per_interaction')) throw new DecisionAlreadyRecordedError();
        throw err;
      });
    },

    async find(id: string): Promise<ConsentRecord | undefined> {
      if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
      const row = await db.selectFrom('consent_records').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },

    /** A person's records, newest first (the timeline on their consents page). */
    async forSubject(subject: string, limit = 200): Promise<ConsentRecord[]> {
      const rows = await db.selectFrom('consent_records').selectAll().where('subject', '=', subject)
        .orderBy('seq', 'desc').limit(limit).execute();
      return rows.map(toRecord);
    },

    /**
     * Recomputes every record's hash and link, in order, in batches. The first record that does not
     * match is reported: its content was changed ('hash'), or a record before it was changed,
     * removed or inserted ('link').
     */
    async verify(batch = 1000): Promise<ChainCheck> {
      let prev = GENESIS;
      let after = '0';
      let count = 0;
      for (;;) {
        const rows = await db.selectFrom('consent_records').selectAll()
          .where(sql<boolean>`seq > ${after}::bigint`).orderBy('seq').limit(batch).execute();
        for (const row of rows) {
          const r = toRecord(row);
          if (r.prevHash !== prev) return { ok: false, records: count, seq: r.seq, id: r.id, reason: 'link' };
          if (sha256(hashInput(r)) !== r.hash) return { ok: false, records: count, seq: r.seq, id: r.id, reason: 'hash' };
          prev = r.hash;
          count++;
          after = String(r.seq);
        }
        if (rows.length < batch) return { ok: true, records: count, head: prev };
      }
    },
  };
}
export type ConsentLedger = ReturnType<typeof createConsentLedger>;
