import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { get, type ClientRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { POSTGRES_SKIP, postgresUrl } from '../../../test/support/databases.ts';
import { createLogger } from '../../shared/logger.ts';
import { createLiveChannel, type LiveChannel, type LiveChannelOptions } from './live-channel.ts';
import type { DeviceMessage } from './types.ts';

const logger = createLogger('error', {}, () => {});
const message = (requestId = 'req-1'): DeviceMessage => ({
  kind: 'request', requestId, clientName: 'Health app', bindingMessage: 'Q7 を確認', expiresAt: new Date('2030-01-01T00:00:00Z'),
});

interface SseEvent { event?: string; data?: string; retry?: string; comment?: string }

/** One process: a tiny Koa app serving the live channel at /events?device=…&account=… */
async function serve(options: Partial<LiveChannelOptions> = {}): Promise<{ live: LiveChannel; url: string; stop(): Promise<void> }> {
  const live = createLiveChannel({ logger, ...options });
  const app = new Koa();
  app.use((ctx) => { live.open(ctx, { deviceId: String(ctx.query.device), accountId: String(ctx.query.account ?? 'acct-1') }); });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    live,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    async stop() { await live.close(); server.closeAllConnections(); server.close(); await once(server, 'close'); },
  };
}

/** A minimal EventSource: parses the stream into events and waits for the one wanted. */
async function connect(url: string): Promise<{ res: IncomingMessage; req: ClientRequest; ended: Promise<'end' | 'aborted'>; next(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent> }> {
  const req = get(url);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const ended = once(res, 'end').then(() => 'end' as const, () => 'aborted' as const);
  const events: SseEvent[] = [];
  let buffer = '';
  let wake = () => {};
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
      const e: SseEvent = {};
      for (const line of buffer.slice(0, at).split('\n')) {
        if (line.startsWith(':')) e.comment = line.slice(1).trim();
        else { const [k, ...v] = line.split(': '); if (k === 'event' || k === 'data' || k === 'retry') e[k] = v.join(': '); }
      }
      events.push(e);
      buffer = buffer.slice(at + 2);
    }
    wake();
  });
  return {
    res, req, ended,
    async next(match, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex(match);
        if (i >= 0) return events.splice(i, 1)[0]!;
        if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms`);
        await new Promise<void>((r) => { wake = r; setTimeout(r, 50); });
      }
    },
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i += 1) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

describe('live channel (one process)', () => {
  it('streams a delivery to the open device app as an SSE event', async () => {
    const p = await serve();
    try {
      assert.equal(p.live.notifier.reaches({ deviceId: 'dev-1', accountId: 'acct-1' }), false, 'no stream yet');
      await assert.rejects(p.live.notifier.deliver({ deviceId: 'dev-1', accountId: 'acct-1' }, message(), AbortSignal.timeout(1000)), /not connected/);
      const client = await connect(`${p.url}?device=dev-1`);
      assert.equal(client.res.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(client.res.headers['cache-control'], 'no-store');
      assert.equal(client.res.headers['x-accel-buffering'], 'no');
      assert.deepEqual(await client.next(() => true), { retry: '3000' });
      assert.equal(p.live.notifier.reaches({ deviceId: 'dev-1', accountId: 'acct-1' }), true);
      assert.equal(p.live.notifier.reaches({ deviceId: 'dev-2', accountId: 'acct-1' }), false);
      await p.live.notifier.deliver({ deviceId: 'dev-1', accountId: 'acct-1' }, message(), AbortSignal.timeout(1000));
      const e = await client.next((x) => x.event === 'request');
      assert.deepEqual(JSON.parse(e.data!), { ...message(), expiresAt: '2030-01-01T00:00:00.000Z' });
      await p.live.notifier.deliver({ deviceId: 'dev-1', accountId: 'acct-1' }, { ...message(), kind: 'settled' }, AbortSignal.timeout(1000));
      assert.equal(JSON.parse((await client.next((x) => x.event === 'settled')).data!).requestId, 'req-1');
      // Another account's device of the same id is never written to.
      await assert.rejects(p.live.notifier.deliver({ deviceId: 'dev-1', accountId: 'acct-2' }, message(), AbortSignal.timeout(1000)), /not connected/);
      client.req.destroy();
    } finally { await p.stop(); }
  });

  it('a client disconnect removes the stream', async () => {
    const p = await serve();
    try {
      const a = await connect(`${p.url}?device=dev-1`);
      const b = await connect(`${p.url}?device=dev-1`);
      await until(() => p.live.connectionCount() === 2, 'two streams');
      a.req.destroy();
      await until(() => p.live.connectionCount() === 1, 'one stream after a disconnect');
      assert.equal(p.live.notifier.reaches({ deviceId: 'dev-1', accountId: 'acct-1' }), true);
      b.req.destroy();
      await until(() => p.live.connectionCount() === 0, 'none after both disconnect');
      assert.equal(p.live.notifier.reaches({ deviceId: 'dev-1', accountId: 'acct-1' }), false);
    } finally { await p.stop(); }
  });

  it('a device holds a bounded number of streams; close() ends them all', async () => {
    const p = await serve({ maxStreamsPerDevice: 2 });
    const clients = [];
    for (let i = 0; i < 3; i += 1) clients.push(await connect(`${p.url}?device=dev-1`));
    assert.equal(await clients[0]!.ended, 'end', 'the oldest stream ended cleanly');
    assert.equal(p.live.connectionCount(), 2);
    await p.stop();
    assert.deepEqual(await Promise.all(clients.slice(1).map((c) => c.ended)), ['end', 'end']);
    assert.equal(p.live.connectionCount(), 0);
  });

  it('sends heartbeat comments on a timer that does not keep the process alive', async () => {
    // A child process holds one open stream, then lets go of its sockets and server: only a ref'd
    // timer could keep it running now, so it must exit by itself.
    const script = `
      import Koa from 'koa';
      import { get } from 'node:http';
      import { spawn } from 'node:child_process';
import { once } from 'node:events';
      const { createLiveChannel } = await import(${JSON.stringify(new URL('./live-channel.ts', import.meta.url).href)});
      const { createLogger } = await import(${JSON.stringify(new URL('../../shared/logger.ts', import.meta.url).href)});
      const live = createLiveChannel({ logger: createLogger('error', {}, () => {}), heartbeatMs: 10 });
      const app = new Koa();
      app.use((ctx) => { live.open(ctx, { deviceId: 'd', accountId: 'a' }); ctx.req.socket.unref(); });
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const req = get('http://127.0.0.1:' + server.address().port + '/');
      const [res] = await once(req, 'response');
      let pings = 0;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        pings += chunk.split(': ping').length - 1;
        if (pings >= 2 && !server.unrefed) { server.unrefed = true; console.log('pinged', live.connectionCount()); server.unref(); req.socket.unref(); }
      });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../../..', import.meta.url), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { out += c; });
    const killer = setTimeout(() => child.kill(), 5000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(killer);
    assert.equal(out.trim(), 'pinged 1', 'heartbeats arrived on the open stream');
    assert.equal(code, 0, 'the process exited by itself with the stream still open');
  });
});

describe('live channel across processes (PostgreSQL LISTEN/NOTIFY)', { skip: POSTGRES_SKIP }, () => {
  it('a stream opened on one process receives a delivery made through another', async () => {
    const databaseUrl = postgresUrl()!;
    const one = await serve({ databaseUrl });
    const two = await serve({ databaseUrl });
    try {
      await Promise.all([one.live.ready(), two.live.ready()]);
      const deviceId = `dev-${crypto.randomUUID()}`;
      const client = await connect(`${one.url}?device=${deviceId}`);
      await client.next((e) => e.retry !== undefined);
      assert.equal(two.live.notifier.reaches({ deviceId, accountId: 'acct-1' }), true, 'the other process cannot know: every device counts as reachable');
      await two.live.notifier.deliver({ deviceId, accountId: 'acct-1' }, message('req-x'), AbortSignal.timeout(2000));
      const e = await client.next((x) => x.event === 'request');
      assert.equal(JSON.parse(e.data!).requestId, 'req-x');
      // A long binding message still fits NOTIFY's 8000-byte limit (cut, with an ellipsis).
      await one.live.notifier.deliver({ deviceId, accountId: 'acct-1' }, { ...message('req-y'), clientName: '長'.repeat(3000), bindingMessage: 'b'.repeat(100) }, AbortSignal.timeout(2000));
      const long = JSON.parse((await client.next((x) => x.event === 'request')).data!) as { requestId: string; clientName: string; bindingMessage: string };
      assert.equal(long.requestId, 'req-y');
      assert.equal(long.bindingMessage, '');
      assert.ok(long.clientName.endsWith('…') && long.clientName.length > 2000);
      client.req.destroy();
    } finally { await Promise.all([one.stop(), two.stop()]); }
  });
});
