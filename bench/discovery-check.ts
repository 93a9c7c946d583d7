import { request } from 'undici';
import type { TargetResult } from './target-process.ts';

/** The target's discovery document with its own issuer replaced by ISSUER, for comparison. */
export async function discoveryOf(origin: string, issuer: string): Promise<Record<string, unknown>> {
  const res = await request(`${origin}/.well-known/openid-configuration`, { headers: { host: new URL(issuer).host } });
  const text = (await res.body.text()).replaceAll(issuer, 'ISSUER');
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Guards the comparison: the bare provider is built from Sekisho's buildFapiConfiguration, but
 * Sekisho may add to it elsewhere (middleware, settings). Every discovery member that differs
 * from the bare provider's is listed.
 */
export function discoveryDifferences(results: TargetResult[]): string[] {
  const bare = results.find((r) => r.target === 'bare')?.discovery;
  if (!bare) return [];
  const out: string[] = [];
  for (const r of results.filter((x) => x.target !== 'bare')) {
    const keys = new Set([...Object.keys(bare), ...Object.keys(r.discovery)]);
    for (const key of keys) {
      if (JSON.stringify(bare[key]) !== JSON.stringify(r.discovery[key])) {
        out.push(`${r.target}: ${key} = ${JSON.stringify(r.discovery[key])?.slice(0, 120)}; bare: ${JSON.stringify(bare[key])?.slice(0, 120)}`);
      }
    }
  }
  return out;
}
