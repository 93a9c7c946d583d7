import pg from 'pg';
import type { Logger } from '../../shared/logger.ts';

export interface PgFanoutOptions {
  databaseUrl: string;
  /** A PostgreSQL identifier: it is written into LISTEN as is. */
  channel: string;
  logger: Logger;
  onMessage(payload: string): void;
  /** First reconnect delay; doubles per failure, capped at 30 s. */
  reconnectMs?: number;
}

export interface PgFanout {
  /** Sends to every listening process, this one included. Resolves once PostgreSQL took it. */
  publish(payload: string): Promise<void>;
  /** Resolves once this process listens (the first time); a test waits for it before publishing. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** PostgreSQL's limit on a NOTIFY payload is 8000 bytes. */
export const MAX_NOTIFY_BYTES = 7999;

/**
 * Messages between the processes that share one database, over LISTEN/NOTIFY: no broker to run.
 * Each process holds one dedicated connection for LISTEN (a pooled one would lose it when handed
 * back) and re-listens when it drops. Delivery is at most once: a message sent while a process
 * reconnects is lost for it, which the device app covers by re-reading its requests on (re)open.
 */
export function createPgFanout(options: PgFanoutOptions): PgFanout {
  const { databaseUrl, channel, logger } = options;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error('invalid NOTIFY channel name');
  const reconnectMs = options.reconnectMs ?? 500;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, allowExitOnIdle: true, application_name: 'sekisho-notify' });
  pool.on('error', (err) => logger.warn('live channel: idle NOTIFY connection failed', { reason: err.name }));
  let current: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closed = false;
  let markReady: () => void = () => {};
  const readyOnce = new Promise<void>((resolve) => { markReady = resolve; });

  function lost(client: pg.Client, err?: Error): void {
    if (current !== client) return;
    current = undefined;
    client.end().catch(() => {});
    if (closed) return;
    const delay = Math.min(30_000, reconnectMs * 2 ** failures);
    failures += 1;
    logger.warn('live channel: LISTEN connection lost; reconnecting', { reason: err?.name ?? 'ended', retryInMs: delay });
    timer = setTimeout(listen, delay);
    timer.unref();
  }

  function listen(): void {
    timer = undefined;
    if (closed) return;
    const client = new pg.Client({ connectionString: databaseUrl, keepAlive: true, application_name: 'sekisho-listen' });
    current = client;
    client.on('error', (err) => lost(client, err));
    client.on('end', () => lost(client));
    client.on('notification', (n) => { if (n.channel === channel && n.payload) options.onMessage(n.payload); });
    client.connect()
      .then(() => client.query(`LISTEN ${channel}`))
      .then(() => { if (current === client) { failures = 0; markReady(); } }, (err: Error) => lost(client, err));
  }

  listen();
  return {
    async publish(payload) {
      if (Buffer.byteLength(payload) > MAX_NOTIFY_BYTES) throw new Error('NOTIFY payload too large');
      // pg_notify takes the payload as a bound parameter: no quoting of user text into SQL.
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    ready: () => readyOnce,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const client = current;
      current = undefined;
      await Promise.all([client?.end().catch(() => {}), pool.end().catch(() => {})]);
    },
  };
}
