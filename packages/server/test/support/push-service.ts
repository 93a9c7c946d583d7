import { createECDH, randomBytes, randomUUID, type ECDH } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestCa } from './pki.ts';
import { decryptPushBody, verifyVapid } from './web-push-receiver.ts';

export interface TestPushSubscription { endpoint: string; keys: { p256dh: string; auth: string } }
export interface ReceivedPush { endpoint: string; headers: IncomingHttpHeaders; vapid: { sub: string }; payload: string; status: number }

export interface PushService {
  origin: string;
  /** The service's test CA (PEM), for a server told to trust it (outbound.caFile). */
  caPem: string;
  /** Trusts the service's test CA; give it to the web-push notifier (the library speaks HTTPS only). */
  agent: Agent;
  /** A subscription as a browser makes one; with applicationServerKey, pushes signed by another key are refused. */
  subscribe(options?: { applicationServerKey?: string }): TestPushSubscription;
  /** The browser unsubscribed: pushes to it are answered 410 Gone. */
  unsubscribe(endpoint: string): void;
  /** The next `count` valid pushes are answered `status` (after being checked and decrypted). */
  failNext(count: number, status: number): void;
  /** Every push that verified and decrypted, including those answered with a failure status. */
  received(): ReceivedPush[];
  /** Pushes refused because their VAPID header or encryption was wrong (should stay empty). */
  rejected(): Array<{ endpoint: string; reason: string }>;
  waitFor(predicate: (push: ReceivedPush) => boolean, timeoutMs?: number): Promise<ReceivedPush>;
  close(): Promise<void>;
}

interface Subscriber { ecdh: ECDH; auth: Buffer; applicationServerKey: string | undefined; gone: boolean }

/** A stand-in for a browser's push service (RFC 8030) and the browser's decryption, over HTTPS on 127.0.0.1. */
export async function startPushService(): Promise<PushService> {
  const ca = await createTestCa('Push Service Test CA');
  const tls = await ca.issue('CN=localhost', { server: true, dns: ['localhost'] });
  const subscribers = new Map<string, Subscriber>();
  const received: ReceivedPush[] = [];
  const rejected: Array<{ endpoint: string; reason: string }> = [];
  const failures: number[] = [];
  const watchers = new Set<() => void>();
  let origin = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const endpoint = origin + (req.url ?? '');
    const subscriber = subscribers.get(endpoint);
    if (req.method !== 'POST' || !subscriber) { res.writeHead(404).end(); return; }
    if (subscriber.gone) { res.writeHead(410).end(); return; }
    let payload: string;
    let sub: string;
    try {
      if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error('Content-Encoding is not aes128gcm');
      if (!/^\d+$/.test(String(req.headers.ttl ?? ''))) throw new Error('TTL header missing (RFC 8030 §5.2)');
      ({ sub } = await verifyVapid(req.headers.authorization, origin, subscriber.applicationServerKey));
      payload = decryptPushBody(Buffer.concat(chunks), subscriber.ecdh, subscriber.auth);
    } catch (err) {
      rejected.push({ endpoint, reason: err instanceof Error ? err.message : String(err) });
      res.writeHead(400).end();
      return;
    }
    const status = failures.shift() ?? 201;
    received.push({ endpoint, headers: req.headers, vapid: { sub }, payload, status });
    res.writeHead(status, status === 201 ? { location: `${origin}/message/${randomUUID()}` } : {}).end();
    for (const w of watchers) w();
  }

  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    handle(req, res).catch(() => { if (!res.headersSent) res.writeHead(500); res.end(); });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // `localhost`: the name on the service's certificate (it listens on 127.0.0.1).
  origin = `https://localhost:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: ca.caPem, keepAlive: false });

  return {
    origin,
    caPem: ca.caPem,
    agent,
    subscribe(options = {}) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const endpoint = `${origin}/push/${randomBytes(24).toString('base64url')}`;
      subscribers.set(endpoint, { ecdh, auth, applicationServerKey: options.applicationServerKey, gone: false });
      return { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
    },
    unsubscribe(endpoint) { const s = subscribers.get(endpoint); if (s) s.gone = true; },
    failNext(count, status) { for (let i = 0; i < count; i += 1) failures.push(status); },
    received: () => [...received],
    rejected: () => [...rejected],
    waitFor(predicate, timeoutMs = 2000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = received.find(predicate);
          if (!hit) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => { watchers.delete(check); reject(new Error(`no matching push within ${timeoutMs} ms; refused: ${JSON.stringify(rejected)}`)); }, timeoutMs);
        watchers.add(check);
        check();
      });
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
