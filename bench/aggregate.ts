import type { ScenarioName } from './load/worker.ts';
import type { TargetName } from './targets/types.ts';
import type { ScenarioResult, TargetResult } from './target-process.ts';

/**
 * Several rounds (BENCH_ROUNDS) → one result per target: for each scenario, the round with the
 * median throughput (its latencies and CPU figures come along), plus every round's ops/s.
 */
export function medianOfRounds(rounds: TargetResult[][]): TargetResult[] {
  if (rounds.length === 1) return rounds[0]!;
  const targets = [...new Set(rounds.flat().map((r) => r.target))] as TargetName[];
  return targets.map((target) => {
    const mine = rounds.flat().filter((r) => r.target === target);
    const pick = (scenario: ScenarioName): ScenarioResult => {
      const sorted = [...mine].sort((a, b) => a[scenario].opsPerSecond - b[scenario].opsPerSecond);
      return { ...sorted[Math.floor((sorted.length - 1) / 2)]![scenario], rounds: mine.map((r) => r[scenario].opsPerSecond) };
    };
    return { ...mine[0]!, clientCredentials: pick('clientCredentials'), codeFlow: pick('codeFlow') };
  });
}
