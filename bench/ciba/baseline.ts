/**
 * The baseline measured in the same run (bench/ciba/bare-sse.ts, in its own process for the whole
 * run): the same burst as (a) — `streams` SSE streams held open, one POST per stream all at once,
 * each timed from the moment it is sent to its event arriving on its stream — given right before
 * each of Sekisho's measured rounds, so every round has its own baseline; and bare HTTP round trips
 * one at a time, the transport floor under (b)'s token requests.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { openSse, type SseStream } from './sse.ts';

/** One burst: per stream, POST sent → event read (ms); streams / (last response − first send). */
export interface BareBurst { notifyMs: number[]; perSecond: number }

export async function startBareSse(streams: number) {
  const child = fork(fileURLToPath(new URL('./bare-sse.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (type: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
    const onMessage = (m: { type: string }) => { if (m.type === type) { child.off('message', onMessage); resolve(m); } };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`bare SSE server exited with code ${code} before ${type}`)));
  });
  const { port } = await next('ready') as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  const streamPool = new Pool(origin, { connections: streams, bodyTimeout: 0 });
  // As many connections as the CIBA client's agent may open, so the burst goes out the same way.
  const pool = new Pool(origin, { connections: 128, keepAliveTimeout: 60_000 });
  const open: SseStream[] = [];
  for (let i = 0; i < streams; i++) open.push(await openSse(streamPool, `/events?id=${i}`, {}));
  let bursts = 0;

  return {
    /** One POST per stream, all at once. */
    async burst(): Promise<BareBurst> {
      const b = ++bursts;
      const sent: number[] = [];
      const answered: number[] = [];
      const notifyMs = await Promise.all(open.map(async (stream, i) => {
        const event = stream.next('request', 10_000);
        const message = { kind: 'request', requestId: `req_${String(i).padStart(22, '0')}`, clientName: 'Kakuu Clinic (benchmark)', bindingMessage: `B${b}-${i}`, expiresAt: new Date().toISOString() };
        sent[i] = performance.now();
        const res = await pool.request({ method: 'POST', path: '/notify', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: i, message }) });
        await res.body.text();
        answered[i] = performance.now();
        if (res.statusCode !== 200) throw new Error(`bare /notify: HTTP ${res.statusCode}`);
        return (await event).at - sent[i]!;
      }));
      return { notifyMs, perSecond: streams / ((Math.max(...answered) - Math.min(...sent)) / 1000) };
    },
    /** `n` POSTs one at a time (after 20 not counted), ms each. */
    async roundTrips(n: number): Promise<number[]> {
      const ms: number[] = [];
      for (let i = 0; i < n + 20; i++) {
        const t0 = performance.now();
        const res = await pool.request({ method: 'POST', path: '/echo', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id=x' });
        await res.body.text();
        if (i >= 20) ms.push(performance.now() - t0);
      }
      return ms;
    },
    async close() {
      for (const s of open) s.close();
      await pool.close();
      await streamPool.destroy();
      const closed = next('closed').catch(() => undefined);
      child.send({ type: 'close' });
      await closed;
    },
  };
}
export type BareSse = Awaited<ReturnType<typeof startBareSse>>;
