/**
 * The baseline of the CIBA benchmark, in a process of its own as Sekisho is: a minimal node:http
 * server with no framework, no authentication and no database. `GET /events?id=N` is an SSE
 * stream (as /device/events, `retry:` first); `POST /notify` with `{"id": N, "message": {...}}`
 * writes `event: request` with that message to stream N and answers 200; `POST /echo` answers a
 * small JSON body. What is left of request → notification here is the cost of HTTP and of an SSE
 * write and read on this machine: the floor under Sekisho's figure.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { freePort } from '../targets/free-port.ts';

const streams = new Map<string, ServerResponse>();

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { text += c; });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://bare');
  if (req.method === 'GET' && url.pathname === '/events') {
    const id = url.searchParams.get('id') ?? '';
    req.setTimeout(0);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
    res.write('retry: 3000\n\n');
    streams.set(id, res);
    res.once('close', () => { if (streams.get(id) === res) streams.delete(id); });
    return;
  }
  if (req.method === 'POST' && url.pathname === '/notify') {
    const { id, message } = JSON.parse(await body(req)) as { id: string; message: unknown };
    const stream = streams.get(String(id));
    stream?.write(`event: request\ndata: ${JSON.stringify(message)}\n\n`);
    res.writeHead(stream ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ delivered: Boolean(stream) }));
    return;
  }
  if (req.method === 'POST' && url.pathname === '/echo') {
    await body(req);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ access_token: 'x'.repeat(43), token_type: 'DPoP', expires_in: 60 }));
    return;
  }
  res.writeHead(404).end();
});

const port = await freePort();
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
process.send!({ type: 'ready', port });
process.on('message', (m: { type: string }) => {
  if (m.type !== 'close') return;
  for (const s of streams.values()) s.end();
  server.closeAllConnections();
  server.close(() => process.send!({ type: 'closed' }, () => process.exit(0)));
});
