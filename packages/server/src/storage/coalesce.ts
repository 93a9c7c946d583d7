interface Pending<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Group commit for one kind of statement: a call made while `maxInFlight` batches are running
 * waits, and everything that waited goes to the database together as one multi-row statement. An
 * idle server sends each call at once (no added latency); a busy one sends fewer, larger
 * statements. Every caller still gets its own result, and only after its row is written.
 *
 * `run` receives the waiting items in arrival order and returns one result per item.
 */
export function coalesce<T, R>(run: (items: T[]) => Promise<R[]>, maxInFlight = 2): (item: T) => Promise<R> {
  let queue: Array<Pending<T, R>> = [];
  let inFlight = 0;
  const next = () => {
    if (inFlight >= maxInFlight || queue.length === 0) return;
    inFlight++;
    const batch = queue;
    queue = [];
    run(batch.map((p) => p.item)).then(
      (results) => batch.forEach((p, i) => p.resolve(results[i]!)),
      (err: unknown) => batch.forEach((p) => p.reject(err)),
    ).finally(() => {
      inFlight--;
      next();
    });
  };
  return (item) => new Promise<R>((resolve, reject) => {
    queue.push({ item, resolve, reject });
    next();
  });
}
