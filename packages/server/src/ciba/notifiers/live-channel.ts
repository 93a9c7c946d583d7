import type { ServerResponse } from 'node:http';
import { finished, PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { Logger } from '../../shared/logger.ts';
import { createPgFanout, MAX_NOTIFY_BYTES, type PgFanout } from './pg-fanout.ts';
import { DeliveryError, type DeviceMessage, type Notifier } from './types.ts';
import { toWire, type WireMessage } from './wire.ts';

export interface LiveTarget { deviceId: string; accountId: string }

export interface LiveChannelOptions {
  logger: Logger;
  /** PostgreSQL shared by several processes: deliveries then travel by NOTIFY. Absent: one process. */
  databaseUrl?: string | undefined;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs?: number;
  /** Streams one device may hold open; opening one more closes its oldest (a reload, a second tab). */
  maxStreamsPerDevice?: number;
}

export interface LiveChannel {
  readonly notifier: Notifier;
  /** Turns this response into the device's event stream (Server-Sent Events) until either side closes. */
  open(ctx: Context, target: LiveTarget): void;
  /** Resolves once deliveries from other processes can arrive (at once without a database URL). */
  ready(): Promise<void>;
  /** Ends every stream and the database connections. */
  close(): Promise<void>;
  connectionCount(): number;
}

interface Stream { accountId: string; out: PassThrough; res: ServerResponse }
interface Envelope { deviceId: string; accountId: string; message: WireMessage }

const NOTIFY_CHANNEL = 'sekisho_device';

function parseEnvelope(payload: string): Envelope | undefined {
  try {
    const v = JSON.parse(payload) as Partial<Envelope> | null;
    if (v && typeof v.deviceId === 'string' && typeof v.accountId === 'string' && v.message && typeof v.message.requestId === 'string') return v as Envelope;
  } catch { /* not ours: ignored below */ }
  return undefined;
}

/**
 * The channel to a device app that is open right now: one Server-Sent Events stream per open app,
 * which is all a PWA in the foreground needs (no push service involved, nothing to subscribe).
 */
export function createLiveChannel(options: LiveChannelOptions): LiveChannel {
  const { logger } = options;
  const heartbeatMs = options.heartbeatMs ?? 25_000;
  const maxPerDevice = options.maxStreamsPerDevice ?? 4;
  const streams = new Map<string, Set<Stream>>();
  let count = 0;
  let heartbeat: NodeJS.Timeout | undefined;

  function write(envelope: Envelope): number {
    const event = `event: ${envelope.message.kind === 'request' ? 'request' : 'settled'}\ndata: ${JSON.stringify(envelope.message)}\n\n`;
    let written = 0;
    for (const s of streams.get(envelope.deviceId) ?? []) {
      // A device id belongs to one account; a mismatch would be a bug elsewhere, so it is not told.
      if (s.accountId !== envelope.accountId || !s.out.writable) continue;
      s.out.write(event);
      written += 1;
    }
    return written;
  }

  const fanout: PgFanout | undefined = options.databaseUrl
    ? createPgFanout({
      databaseUrl: options.databaseUrl, channel: NOTIFY_CHANNEL, logger,
      onMessage: (payload) => { const e = parseEnvelope(payload); if (e) write(e); },
    })
    : undefined;

  function envelope(target: LiveTarget, message: DeviceMessage): Envelope {
    // The envelope around the message is small; the rest of the NOTIFY limit is the message's.
    const room = MAX_NOTIFY_BYTES - Buffer.byteLength(JSON.stringify({ deviceId: target.deviceId, accountId: target.accountId, message: null }));
    return { deviceId: target.deviceId, accountId: target.accountId, message: toWire(message, room) };
  }

  function beat(): void {
    for (const set of streams.values()) for (const s of set) if (s.out.writable) s.out.write(': ping\n\n');
  }

  const notifier: Notifier = {
    channel: 'live',
    // With several processes the stream may be held by any of them, and only that one knows; a
    // NOTIFY costs one small message that the others ignore, so every device counts as reachable.
    reaches: (target) => fanout !== undefined || (streams.get(target.deviceId)?.size ?? 0) > 0,
    async deliver(target, message, signal) {
      signal.throwIfAborted();
      const e = envelope(target, message);
      if (fanout) {
        try { await fanout.publish(JSON.stringify(e)); } catch (err) {
          throw new DeliveryError('network', `NOTIFY failed (${err instanceof Error ? err.name : 'unknown'})`);
        }
        return;
      }
      if (write(e) === 0) throw new DeliveryError('no-stream', 'device app is not connected');
    },
  };

  return {
    notifier,
    open(ctx, target) {
      // Gone before we got here: no 'close' would come to clean up after it.
      if (ctx.req.socket.destroyed) { ctx.respond = false; return; }
      const out = new PassThrough();
      const stream: Stream = { accountId: target.accountId, out, res: ctx.res };
      let set = streams.get(target.deviceId);
      if (!set) streams.set(target.deviceId, set = new Set());
      const oldest = set.size >= maxPerDevice ? set.values().next().value : undefined;
      if (oldest) { set.delete(oldest); count -= 1; oldest.out.end(); }
      set.add(stream);
      count += 1;
      let done = false;
      const cleanup = () => {
        if (done) return;
        done = true;
        const current = streams.get(target.deviceId);
        if (current?.delete(stream)) count -= 1;
        if (current && current.size === 0) streams.delete(target.deviceId);
        if (count === 0 && heartbeat) { clearInterval(heartbeat); heartbeat = undefined; }
        out.destroy();
      };
      out.once('close', cleanup);
      ctx.res.once('close', cleanup);
      // The stream is meant to idle between events; a server-wide socket timeout must not end it.
      ctx.req.setTimeout(0);
      ctx.status = 200;
      ctx.set('Content-Type', 'text/event-stream; charset=utf-8');
      ctx.set('Cache-Control', 'no-store');
      // nginx and similar proxies would otherwise hold events back in their buffers.
      ctx.set('X-Accel-Buffering', 'no');
      // Not `ctx.body = out`: Koa pipes a body with stream.pipeline, which reports every client
      // that goes away (the normal end of an event stream) as an app error. Koa steps aside and
      // the stream is piped by hand; the headers set above, and by earlier middleware, still apply.
      ctx.respond = false;
      ctx.res.flushHeaders();
      out.pipe(ctx.res);
      out.write('retry: 3000\n\n');
      if (!heartbeat) {
        heartbeat = setInterval(beat, heartbeatMs);
        heartbeat.unref();
      }
    },
    ready: () => fanout?.ready() ?? Promise.resolve(),
    async close() {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
      const ending: Array<Promise<void>> = [];
      for (const set of streams.values()) {
        for (const s of set) {
          // Ends each response cleanly (the app reconnects after `retry`) before the server closes.
          ending.push(new Promise((resolve) => {
            finished(s.res, () => resolve());
            setTimeout(resolve, 1000).unref();
          }));
          s.out.end();
        }
      }
      streams.clear();
      count = 0;
      await Promise.all([...ending, fanout?.close()]);
    },
    connectionCount: () => count,
  };
}
