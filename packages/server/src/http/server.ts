import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import type { Sekisho } from '../app.ts';
import type { Logger } from '../shared/logger.ts';

/**
 * FAPI 2.0 SP 5.2.2 / BCP 195 (RFC 9325): TLS 1.2 with ECDHE and AES-GCM only; TLS 1.3 suites
 * are all acceptable and keep Node's defaults.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
].join(':');

export function createListener(config: Config, handler: Sekisho['callback']): Server {
  if (!config.tls) return createHttpServer(handler);
  return createHttpsServer({
    cert: readFileSync(config.tls.certFile),
    key: readFileSync(config.tls.keyFile),
    ...(config.tls.clientCaFile ? { ca: readFileSync(config.tls.clientCaFile) } : {}),
    minVersion: 'TLSv1.2',
    ciphers: TLS12_CIPHERS,
    honorCipherOrder: true,
    // Ask every client for a certificate but let the handshake through without one or with a
    // self-signed one: each client's registered auth method decides (RFC 8705 §2.1 and §2.2).
    requestCert: true,
    rejectUnauthorized: false,
  }, handler);
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Stops accepting, lets in-flight requests finish (bounded), then closes storage. */
export async function shutdown(server: Server, app: Sekisho, logger: Logger, graceMs = 10_000): Promise<void> {
  app.beginShutdown();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => {
    logger.warn('forcing open connections closed');
    server.closeAllConnections();
  }, graceMs);
  await closed;
  clearTimeout(timer);
  await app.close();
}
