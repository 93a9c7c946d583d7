import { rmSync } from 'node:fs';
import { createSekisho, type Sekisho } from '../../../packages/server/src/app.ts';
import { parseConfig } from '../../../packages/server/src/config/load.ts';
import { createListener, listen, shutdown } from '../../../packages/server/src/http/server.ts';
import { generateKekValue } from '../../../packages/server/src/keys/kek.ts';
import { createLogger, type Logger } from '../../../packages/server/src/shared/logger.ts';

export interface DemoSekisho {
  issuer: string;
  app: Sekisho;
  close(): Promise<void>;
}

/**
 * Sekisho for the demo: development mode on embedded PGlite in its own folder, which is emptied
 * first, so every demo starts from the same generated data and never touches `./data` (the store
 * `npm start` uses). A new key-encryption key each time: nothing in the folder outlives the run.
 */
export async function startDemoSekisho(options: {
  port: number;
  host: string;
  dataDir: string;
  resourceServers: Array<Record<string, unknown>>;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}): Promise<DemoSekisho> {
  rmSync(options.dataDir, { recursive: true, force: true });
  const issuer = `http://localhost:${options.port}`;
  const config = parseConfig({
    issuer,
    port: options.port,
    host: options.host,
    dataDir: options.dataDir,
    keyEncryptionKey: generateKekValue(),
    logLevel: options.logLevel ?? 'warn',
    resourceServers: options.resourceServers,
    // A patient number typed at the clinic names the patient whose record it is linked to.
    ciba: { pollIntervalSeconds: 2, loginHint: ['linked:fhir_patient', 'username'] },
    consent: { controller: 'Sekisho demo (fictional operator)', contact: 'privacy@sekisho-demo.example' },
  });
  const logger: Logger = createLogger(config.logLevel);
  const app = await createSekisho(config, logger);
  const server = createListener(config, app.callback);
  await listen(server, options.port, options.host);
  return {
    issuer,
    app,
    close: () => shutdown(server, app, logger, 2000),
  };
}
