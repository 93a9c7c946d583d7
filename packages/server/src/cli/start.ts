import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import { createSekisho } from '../app.ts';
import { createListener, listen, shutdown } from '../http/server.ts';
import { createClientsRepository } from '../storage/clients-repo.ts';

/** Starts the server and stays up until SIGINT/SIGTERM, then shuts down gracefully. */
export async function startServer(config: Config, logger: Logger): Promise<void> {
  const app = await createSekisho(config, logger);
  const server = createListener(config, app.callback);
  const port = await listen(server, config.port, config.host);
  logger.info('sekisho listening', { issuer: config.issuer, port, engine: app.storage.engine, mode: config.mode });

  const clientCount = await createClientsRepository(app.storage.db).count();
  const accountCount = await app.accounts.count();
  if (process.stdout.isTTY || clientCount === 0 || accountCount === 0) {
    process.stderr.write([
      '',
      `  Sekisho is running: ${config.issuer}`,
      `  Discovery:          ${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
      `  Storage:            ${app.storage.engine === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL'}`,
      ...(clientCount === 0 ? ['', '  No clients yet. Register one (see docs/clients.md for a worked FAPI 2.0 example):',
        '    npm run sekisho -- client add --file my-client.json'] : []),
      ...(accountCount === 0 ? ['', '  No accounts yet. Create one (the password is read from standard input):',
        '    npm run sekisho -- user add --username alice'] : []),
      '',
    ].join('\n') + '\n');
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info('shutting down', { signal });
      shutdown(server, app, logger).then(resolve, (err: unknown) => { logger.error('shutdown failed', { err }); resolve(); });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
