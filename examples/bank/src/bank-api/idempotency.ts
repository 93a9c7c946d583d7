/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): a client that did not hear the
 * answer to a transfer sends it again with the same key and gets the same answer, and the money
 * moves once. The header is a Structured Field string (`"8e03978e-…"`); the bare token many APIs
 * use is accepted too. A key is 16 to 64 of A-Z a-z 0-9 - _ (a UUID is 36).
 */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{16,64}$/;

/** The key from the header value(s), or undefined when it is missing, repeated or malformed. */
export function idempotencyKey(values: string[] | undefined): string | undefined {
  if (!values || values.length !== 1) return undefined;
  const raw = values[0]!.trim();
  const key = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  return IDEMPOTENCY_KEY.test(key) ? key : undefined;
}

/** A key not seen (or forgotten), seen with the same request (its answer), or seen with another. */
export type Lookup<T> = { kind: 'new' } | { kind: 'replay'; answer: T } | { kind: 'mismatch' };

/**
 * Answers kept by (client, key) for `ttlSeconds`, with the fingerprint of the request that got
 * them. Only answers that changed something are kept (a created transfer): a refusal changed
 * nothing, so sending it again simply asks again. In memory and bounded: past `max` the oldest
 * go; several instances of the API would share a store (a table with a unique (client, key)).
 */
export function createIdempotencyStore<T>(options: { ttlSeconds: number; max?: number }) {
  const max = options.max ?? 10_000;
  const entries = new Map<string, { fingerprint: string; answer: T; until: number }>();
  const id = (clientId: string, key: string) => JSON.stringify([clientId, key]);

  return {
    lookup(clientId: string, key: string, fingerprint: string, now = Date.now()): Lookup<T> {
      const entry = entries.get(id(clientId, key));
      if (!entry || entry.until <= now) return { kind: 'new' };
      return entry.fingerprint === fingerprint ? { kind: 'replay', answer: entry.answer } : { kind: 'mismatch' };
    },
    save(clientId: string, key: string, fingerprint: string, answer: T, now = Date.now()): void {
      if (entries.size >= max) {
        for (const [k, e] of entries) if (e.until <= now) entries.delete(k);
        while (entries.size >= max) entries.delete(entries.keys().next().value!);
      }
      entries.set(id(clientId, key), { fingerprint, answer, until: now + options.ttlSeconds * 1000 });
    },
  };
}
