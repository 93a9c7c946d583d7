import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createSekisho, type Sekisho } from '../../src/app.ts';
import { createListener, listen, shutdown } from '../../src/http/server.ts';
import { createLogger, type Logger } from '../../src/shared/logger.ts';
import { generateKekValue } from '../../src/keys/kek.ts';
import { createTestCa, type Issued } from './pki.ts';
import { createTempDatabase } from './databases.ts';
import type { Server } from 'node:http';

export type EngineName = 'pglite' | 'postgres';

export interface TestPki {
  caPem: string;
  server: Issued;
  issueClient(subject: string): Promise<Issued>;
}

export interface TestServer {
  issuer: string;
  port: number;
  config: Config;
  app: Sekisho;
  pki: TestPki | undefined;
  /** An undici dispatcher trusting the test CA, with an optional client certificate. */
  dispatcher(client?: Issued): Dispatcher;
  /** Stops the process-level server and starts a new one on the same port and storage. */
  restart(): Promise<void>;
  close(): Promise<void>;
  logs: string[];
}

export interface TestServerOptions {
  engine?: EngineName;
  https?: boolean;
  /** Plain HTTP listener with an https issuer: the server sits behind a TLS-terminating proxy. */
  behindProxy?: boolean;
  config?: Record<string, unknown>;
}

async function freePort(): Promise<number> {
  const srv: NetServer = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const pkiCache: { value?: Promise<TestPki> } = {};
export async function testPki(): Promise<TestPki> {
  pkiCache.value ??= (async () => {
    const ca = await createTestCa();
    const server = await ca.issue('CN=localhost', { server: true, dns: ['localhost'] });
    return { caPem: ca.caPem, server, issueClient: (subject: string) => ca.issue(subject) };
  })();
  return pkiCache.value;
}

/** Starts a real Sekisho (HTTPS by default, with client certificates) on a temporary store. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const engine = options.engine ?? 'pglite';
  const https = options.behindProxy ? false : options.https ?? true;
  const dir = mkdtempSync(join(tmpdir(), 'sekisho-test-'));
  const port = await freePort();
  const pki = https ? await testPki() : undefined;
  if (pki) {
    writeFileSync(join(dir, 'server.crt'), pki.server.certPem);
    writeFileSync(join(dir, 'server.key'), pki.server.keyPem);
    writeFileSync(join(dir, 'client-ca.crt'), pki.caPem);
  }
  const database = engine === 'postgres' ? await createTempDatabase() : undefined;
  const issuer = `${https || options.behindProxy ? 'https' : 'http'}://localhost:${port}`;
  const config = parseConfig({
    issuer, port, host: '127.0.0.1', dataDir: join(dir, 'data'), databaseUrl: database?.url,
    keyEncryptionKey: generateKekValue(), logLevel: 'warn', databasePoolSize: 20,
    ...(pki ? { tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), clientCaFile: join(dir, 'client-ca.crt') } } : {}),
    ...options.config,
  });
  const logs: string[] = [];
  const logger: Logger = createLogger('warn', {}, (line) => logs.push(line));

  let app = await createSekisho(config, logger);
  let server: Server = createListener(config, app.callback);
  await listen(server, port, '127.0.0.1');

  const agents: Agent[] = [];
  const result: TestServer = {
    issuer, port, config, pki, logs,
    get app() { return app; },
    dispatcher(client) {
      const agent = new Agent({ connect: { ...(pki ? { ca: pki.caPem } : {}), ...(client ? { cert: client.certPem, key: client.keyPem } : {}) } });
      agents.push(agent);
      return agent;
    },
    async restart() {
      await shutdown(server, app, logger, 1000);
      app = await createSekisho(config, logger);
      server = createListener(config, app.callback);
      await listen(server, port, '127.0.0.1');
    },
    async close() {
      await Promise.all(agents.map((a) => a.close().catch(() => {})));
      await shutdown(server, app, logger, 1000);
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return result;
}
