/**
 * Part B of the consent benchmark: GET /account/consents for the seeded person, one request at a
 * time and then from several loops at once, each response checked (200, the page of that person,
 * how many grants and decisions it lists).
 */
import type { CookieJar } from '../identity/browser.ts';
import { expectStatus, UnexpectedPage } from '../identity/browser.ts';
import type { Browser } from './flows.ts';

export interface Percentiles { n: number; p50: number; p95: number; p99: number; max: number; mean: number }
export interface PageShape { bytes: number; grantsListed: number; recordsListed: number }
export interface PageRun { requests: number; concurrency: number; seconds: number; perSecond: number; latencyMs: Percentiles }

/** Nearest-rank percentiles (as bench/load/measure.ts, with p95). */
export function percentiles(values: number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: values.length, p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(sorted.at(-1) ?? NaN), mean: r(values.reduce((a, b) => a + b, 0) / (values.length || 1)) };
}

export function createPageProbe(browser: Browser, jar: CookieJar) {
  const tab = browser.tab(jar);
  async function once(): Promise<{ ms: number; body: string }> {
    const t0 = performance.now();
    const res = await tab.get('/account/consents');
    const ms = performance.now() - t0;
    expectStatus('My consents', res, 200);
    if (!res.body.includes('id="consent-history"')) throw new UnexpectedPage('My consents: no decision history on the page');
    return { ms, body: res.body };
  }
  return {
    async shape(): Promise<PageShape> {
      const { body } = await once();
      return {
        bytes: Buffer.byteLength(body),
        grantsListed: body.match(/action="\/account\/consents\/revoke"/g)?.length ?? 0,
        recordsListed: body.match(/href="\/account\/consents\/receipt\?id=/g)?.length ?? 0,
      };
    },
    /** `requests` in all, from `concurrency` loops, each waiting for its answer before the next. */
    async run(requests: number, concurrency: number): Promise<PageRun> {
      const latencies: number[] = [];
      let left = requests;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (left-- > 0) latencies.push((await once()).ms);
      }));
      const seconds = (performance.now() - t0) / 1000;
      return { requests, concurrency, seconds: Math.round(seconds * 1000) / 1000, perSecond: Math.round((requests / seconds) * 10) / 10, latencyMs: percentiles(latencies) };
    },
  };
}
