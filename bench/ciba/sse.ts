/**
 * A Server-Sent Events reader as a device app's EventSource is, over a plain undici connection:
 * one GET whose body stays open, cut into events at blank lines. Each event is handed over with
 * the performance.now() at which the chunk completing it arrived, so a benchmark can time
 * deliveries. Used for Sekisho's /device/events and for the bare SSE baseline alike.
 */
import type { Dispatcher } from 'undici';

export interface SseEvent { event: string; data: string; at: number }

export interface SseStream {
  /** Resolves with the next event of kind `event` that arrives after this call. */
  next(event: string, timeoutMs: number): Promise<SseEvent>;
  close(): void;
}

/** Opens the stream (resolves once the response headers are in, status 200 and text/event-stream). */
export async function openSse(dispatcher: Dispatcher, path: string, headers: Record<string, string>): Promise<SseStream> {
  const abort = new AbortController();
  const res = await dispatcher.request({ method: 'GET', path, headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
    const body = await res.body.text().catch(() => '');
    throw new Error(`SSE ${path}: HTTP ${res.statusCode} ${String(res.headers['content-type'])} ${body.slice(0, 200)}`);
  }
  const waiters: Array<{ event: string; resolve(e: SseEvent): void }> = [];
  let buffer = '';
  res.body.setEncoding('utf8');
  res.body.on('data', (chunk: string) => {
    const at = performance.now();
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (!data.length) continue; // a comment (heartbeat) or a bare `retry:`
      const i = waiters.findIndex((w) => w.event === event);
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve({ event, data: data.join('\n'), at });
    }
  });
  // The end of the stream (close() or the server going away) is not an error here.
  res.body.on('error', () => {});
  return {
    next(event, timeoutMs) {
      return new Promise((resolve, reject) => {
        const waiter = { event, resolve: (e: SseEvent) => { clearTimeout(timer); resolve(e); } };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`SSE ${path}: no '${event}' event within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close: () => abort.abort(),
  };
}
