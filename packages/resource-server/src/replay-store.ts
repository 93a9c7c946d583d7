/**
 * Replay stores for DPoP proof `jti`s (RFC 9449 §11.1). The in-memory store suits one instance;
 * several instances behind a balancer need one shared store, or a proof replayed to another
 * instance is accepted there.
 */
import type { ReplayStore } from './types.ts';

export type { ReplayStore } from './types.ts';

/** Options of {@link createMemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /** Most entries kept (default 100000). */
  maxEntries?: number;
  now?: () => number;
}

/**
 * An in-memory {@link ReplayStore} for one process. Bounded: expired entries are swept as new
 * ones arrive; when it is full of unexpired entries the oldest is dropped, which re-opens that
 * one proof to replay — size `maxEntries` above (requests per second × proof window).
 *
 * Not checked: anything across processes.
 */
export function createMemoryReplayStore(options: MemoryReplayStoreOptions = {}): ReplayStore & { readonly size: number } {
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  // Insertion order ≈ expiry order (every proof gets the same window), so sweeping from the front works.
  const entries = new Map<string, number>();
  let nextSweep = 0;

  function sweep(at: number): void {
    for (const [key, expiresAt] of entries) {
      if (expiresAt > at) break;
      entries.delete(key);
    }
  }

  return {
    get size() {
      return entries.size;
    },
    firstUse(key, expiresAtMs) {
      const at = now();
      if (at >= nextSweep || entries.size >= maxEntries) {
        sweep(at);
        nextSweep = at + 1_000;
      }
      const seen = entries.get(key);
      if (seen !== undefined && seen > at) return false;
      if (seen !== undefined) entries.delete(key);
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, expiresAtMs);
      return true;
    },
  };
}
