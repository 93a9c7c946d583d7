import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';

/** CPU time of this thread in seconds (Node ≥ 23.9: process.threadCpuUsage). */
export function threadCpuSeconds(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU time of the whole machine in seconds, busy and total, summed over all CPUs. */
export function machineCpuSeconds(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    busy += all - times.idle;
    total += all;
  }
  return { busy: busy / 1000, total: total / 1000 };
}

const CLK_TCK = 100;

/** CPU time (s) of the given processes from /proc/PID/stat; processes that are gone count 0. */
export function processCpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch { /* exited, or not Linux */ }
  }
  return ticks / CLK_TCK;
}

/** Marks statements the benchmark itself sends, so the query counter leaves them out. */
export const BENCH_SQL_MARK = '/* bench */';

/**
 * Finds the PostgreSQL backend processes serving Sekisho's pool (every connection to the run's
 * database but this observer's own), so their CPU time can be charged to Sekisho on PostgreSQL.
 */
export async function createBackendObserver(databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return {
    async pids(): Promise<number[]> {
      const { rows } = await client.query<{ pid: number }>(`${BENCH_SQL_MARK} SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
      return rows.map((r) => r.pid);
    },
    close: () => client.end(),
  };
}
