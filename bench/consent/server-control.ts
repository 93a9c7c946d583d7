/**
 * The load generator's handle on the consent benchmark's server process (bench/consent/server-process.ts):
 * start it, ask it for measured windows, seeding and EXPLAINs, close it (bench/server-child.ts).
 */
import { startServerChild } from '../server-child.ts';
import type { ConsentPlan, FromServer, ServerWindow, ToServer } from './server-process.ts';

export function startConsentServer(options: { people: number; databaseUrl: string | undefined; cpuProfileDir: string | undefined }) {
  return startServerChild<ConsentPlan, ServerWindow, ToServer, FromServer>({
    label: 'consent',
    module: new URL('./server-process.ts', import.meta.url),
    execArgv: [...process.execArgv, ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [])],
    env: {
      ...process.env,
      BENCH_CONSENT_OPTIONS: JSON.stringify({ people: options.people }),
      ...(options.databaseUrl ? { BENCH_TARGET_DATABASE_URL: options.databaseUrl } : {}),
    },
  });
}
export type ConsentServer = ReturnType<typeof startConsentServer>;
