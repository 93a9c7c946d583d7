import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { redact, type Logger } from '../shared/logger.ts';
import { coalesce } from '../storage/coalesce.ts';

/** One security event. `type` is a stable dotted name (`token.issued`, `client.added`, …). */
export interface AuditEvent {
  type: string;
  outcome: 'success' | 'failure';
  clientId?: string | undefined;
  subject?: string | undefined;
  ip?: string | undefined;
  details?: Record<string, unknown>;
}

export interface AuditLog {
  /** Writes the event; resolves once it is stored. */
  record(event: AuditEvent): Promise<void>;
  /**
   * Writes the event without making the caller wait (protocol hot paths). Failures are logged and
   * pending writes are awaited by `flush()` at shutdown, so none is lost on a graceful stop.
   */
  recordInBackground(event: AuditEvent): void;
  flush(): Promise<void>;
  query(filter?: { type?: string; subject?: string; limit?: number }): Promise<Array<AuditEvent & { id: string; occurredAt: Date }>>;
}

export function createAuditLog(db: Kysely<Database>, logger: Logger): AuditLog {
  const pending = new Set<Promise<void>>();
  const toRow = (event: AuditEvent) => ({
    type: event.type,
    outcome: event.outcome,
    client_id: event.clientId ?? null,
    subject: event.subject ?? null,
    ip: event.ip ?? null,
    // Details never carry credentials: the same redaction as the logs applies.
    details: JSON.stringify(redact(event.details ?? {})),
  });
  // Background events that arrive while a write is running go together as one multi-row insert.
  const writeBatch = coalesce<AuditEvent, void>(async (events) => {
    await db.insertInto('audit_events').values(events.map(toRow)).execute();
    return events.map(() => undefined);
  }, 1);
  return {
    async record(event) {
      await db.insertInto('audit_events').values(toRow(event)).execute();
    },
    recordInBackground(event) {
      const p = writeBatch(event).catch((err: unknown) => logger.error('audit write failed', { event: event.type, err }));
      pending.add(p);
      void p.finally(() => pending.delete(p));
    },
    async flush() {
      await Promise.all(pending);
    },
    async query(filter = {}) {
      let q = db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(filter.limit ?? 100);
      if (filter.type) q = q.where('type', '=', filter.type);
      if (filter.subject) q = q.where('subject', '=', filter.subject);
      const rows = await q.execute();
      return rows.map((r) => ({
        id: r.id, occurredAt: r.occurred_at, type: r.type, outcome: r.outcome as 'success' | 'failure',
        clientId: r.client_id ?? undefined, subject: r.subject ?? undefined, ip: r.ip ?? undefined, details: r.details,
      }));
    },
  };
}
