/**
 * The ping-mode client's notification endpoint (CIBA §10.2): an HTTPS server on loopback with a
 * certificate from a throwaway test CA (the test suite's pki.ts), which Sekisho is told to trust
 * (`outbound.caFile`, `allowPrivateNetworks`), as test/conformance/ciba-ping-hints.test.ts sets it
 * up. It notes when each auth_req_id's ping arrived (the body read in full) and answers 204.
 */
import { createServer } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCa } from '../../packages/server/test/support/pki.ts';

export async function startPingReceiver() {
  const ca = await createTestCa('Sekisho Bench CA');
  const cert = await ca.issue('CN=localhost', { server: true, dns: ['localhost'] });
  const dir = mkdtempSync(join(tmpdir(), 'sekisho-bench-ping-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.caPem);
  const arrived = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  let unexpected = 0;
  const server = createServer({ cert: cert.certPem, key: cert.keyPem, keepAliveTimeout: 60_000 }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      const at = performance.now();
      res.writeHead(204).end();
      let id: unknown;
      try { id = (JSON.parse(body) as { auth_req_id?: unknown }).auth_req_id; } catch { id = undefined; }
      if (typeof id !== 'string' || !req.headers.authorization?.startsWith('Bearer ')) { unexpected++; return; }
      arrived.set(id, at);
      waiters.get(id)?.(at);
      waiters.delete(id);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `https://localhost:${port}/ciba/ping`,
    caFile,
    /** When the ping for `authReqId` arrived (it may already have, before the approval's response). */
    pinged(authReqId: string, timeoutMs: number): Promise<number> {
      const at = arrived.get(authReqId);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(authReqId); reject(new Error(`no ping for an approved request within ${timeoutMs} ms`)); }, timeoutMs);
        waiters.set(authReqId, (t) => { clearTimeout(timer); resolve(t); });
      });
    },
    unexpected: () => unexpected,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
export type PingReceiver = Awaited<ReturnType<typeof startPingReceiver>>;
