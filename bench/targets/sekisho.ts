import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSekisho } from '../../packages/server/src/app.ts';
import { parseConfig } from '../../packages/server/src/config/load.ts';
import { createListener, listen, shutdown } from '../../packages/server/src/http/server.ts';
import { createLogger } from '../../packages/server/src/shared/logger.ts';
import { generateKekValue } from '../../packages/server/src/keys/kek.ts';
import { registerClient } from '../../packages/server/src/protocol/client-registration.ts';
import { createClientsRepository } from '../../packages/server/src/storage/clients-repo.ts';
import { freePort } from './free-port.ts';
import { benchClaims, RESOURCE_SERVER, type BenchTarget } from './types.ts';
import { applyWhatIfs, prepareDatabase, type WhatIf } from './what-if.ts';

/**
 * A real Sekisho, built the way `sekisho start` builds it, over plain HTTP on 127.0.0.1
 * (an http issuer on a loopback host is allowed in development mode). PGlite lives in a
 * temporary folder on disk; PostgreSQL uses the database the orchestrator created for this run.
 */
export async function startSekisho(options: { databaseUrl?: string | undefined; whatIfs?: WhatIf[] }): Promise<BenchTarget> {
  const whatIfs = options.whatIfs ?? [];
  await prepareDatabase(whatIfs, options.databaseUrl);
  const dir = mkdtempSync(join(tmpdir(), 'sekisho-bench-'));
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const config = parseConfig({
    issuer, port, host: '127.0.0.1',
    dataDir: join(dir, 'data'),
    databaseUrl: options.databaseUrl,
    keyEncryptionKey: generateKekValue(),
    logLevel: 'warn',
    resourceServers: [RESOURCE_SERVER],
  });
  const logger = createLogger('warn', { target: options.databaseUrl ? 'postgres' : 'pglite' }, (line) => process.stderr.write(`${line}\n`));
  const app = await createSekisho(config, logger);
  await applyWhatIfs(app, whatIfs);
  const server = createListener(config, app.callback);
  await listen(server, port, '127.0.0.1');
  const clients = createClientsRepository(app.storage.db);
  let users = 0;

  return {
    name: options.databaseUrl ? 'postgres' : 'pglite',
    issuer,
    origin: `http://127.0.0.1:${port}`,
    async registerClient(metadata) {
      await registerClient(app.provider, clients, metadata);
    },
    async createUser() {
      const username = `bench-user-${++users}`;
      const password = `bench-password-${users}-${generateKekValue().slice(0, 12)}`;
      await app.accounts.create({ username, password, claims: benchClaims(username) });
      return { username, password };
    },
    async close() {
      await shutdown(server, app, logger, 1000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
