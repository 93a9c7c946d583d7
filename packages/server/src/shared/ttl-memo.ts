/**
 * Reuses the result of an async lookup per key for `ttlMs`. Only found values are kept (a miss or
 * a failure is asked again next time); at most `max` keys, all dropped when full. `ttlMs` 0 turns
 * it off.
 */
export function ttlMemo<K, V>(load: (key: K) => Promise<V | undefined>, ttlMs: number, max = 10_000): (key: K) => Promise<V | undefined> {
  if (ttlMs <= 0) return load;
  const cache = new Map<K, { until: number; value: Promise<V | undefined> }>();
  return (key) => {
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.value;
    if (cache.size >= max) cache.clear();
    const value = load(key);
    cache.set(key, { until: now + ttlMs, value });
    value.then((found) => { if (found === undefined) cache.delete(key); }, () => cache.delete(key));
    return value;
  };
}
