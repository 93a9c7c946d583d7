/**
 * DPoP proof `jti`s seen recently (RFC 9449 §11.1: a proof is used once). A proof is accepted for
 * 300 s either side of its `iat` (oauth4webapi's window), so an entry is kept until then. In
 * memory and bounded: past `max` entries the oldest go first, which only matters under a flood
 * of valid proofs, and several instances of the API would need a shared store instead.
 */
export function createReplayCache(max = 10_000, windowSeconds = 310) {
  const seen = new Map<string, number>();

  function sweep(now: number): void {
    for (const [jti, until] of seen) if (until <= now) seen.delete(jti);
    while (seen.size >= max) seen.delete(seen.keys().next().value!);
  }

  return {
    /** True the first time `jti` is presented within its window; false for a replay. */
    firstUse(jti: string, iat: number, now = Date.now()): boolean {
      const until = seen.get(jti);
      if (until !== undefined && until > now) return false;
      if (seen.size >= max) sweep(now);
      seen.set(jti, (iat + windowSeconds) * 1000);
      return true;
    },
  };
}
