#!/usr/bin/env node
/**
 * `npm run demo`: Sekisho with the two reference scenarios, on this machine, with generated and
 * clearly fictional people, clients and data. A way to explore, not a way to run Sekisho: the data
 * lives in `.demo-data/` (emptied at every start) and nothing here is loaded by `npm start`.
 *
 * Environment (all optional):
 *   DEMO_HOST            address everything listens on (default 127.0.0.1; Sekisho's URL is
 *                        http://localhost:PORT, a secure context in which browsers allow passkeys)
 *   DEMO_SEKISHO_PORT    default 3000
 *   DEMO_CLINIC_PORT     default 4000      DEMO_HEALTH_API_PORT   default 4001
 *   DEMO_PORTAL_PORT     default 4002
 *   DEMO_FINTECH_PORT    default 4100      DEMO_BANK_API_PORT     default 4101
 *   DEMO_DATA_DIR        default .demo-data (at the repository root)
 *   DEMO_LOG             1: print the example apps' request logs
 */
import { fileURLToPath } from 'node:url';
import { startDemo, type DemoPorts } from './demo-world.ts';
import { instructions } from './instructions.ts';

const env = process.env;
if (env.SEKISHO_MODE === 'production' || env.NODE_ENV === 'production') {
  process.stderr.write('The demo is not for production: it creates people with printed passwords. Unset SEKISHO_MODE / NODE_ENV.\n');
  process.exit(64);
}

function port(name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    process.stderr.write(`${name} must be a port number (1-65535)\n`);
    process.exit(64);
  }
  return value;
}

const ports: DemoPorts = {
  sekisho: port('DEMO_SEKISHO_PORT', 3000),
  clinic: port('DEMO_CLINIC_PORT', 4000),
  healthApi: port('DEMO_HEALTH_API_PORT', 4001),
  portal: port('DEMO_PORTAL_PORT', 4002),
  fintech: port('DEMO_FINTECH_PORT', 4100),
  bankApi: port('DEMO_BANK_API_PORT', 4101),
};
const dataDir = env.DEMO_DATA_DIR ?? fileURLToPath(new URL('../../../.demo-data', import.meta.url));

process.stdout.write('Starting the Sekisho demo (generated, fictional data) …\n');
const demo = await startDemo({
  host: env.DEMO_HOST ?? '127.0.0.1', ports, dataDir,
  ...(env.DEMO_LOG === '1' ? { log: (app: string, line: unknown) => process.stdout.write(`[${app}] ${JSON.stringify(line)}\n`) } : {}),
}).catch((err: unknown) => {
  const text = err instanceof Error ? err.message : String(err);
  process.stderr.write(`The demo could not start: ${text}\n${/EADDRINUSE/.test(text) ? 'A port is taken: stop what uses it, or set DEMO_*_PORT.\n' : ''}`);
  process.exit(1);
});
process.stdout.write(instructions(demo));

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await demo.close();
  process.exit(0);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
