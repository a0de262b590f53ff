/**
 * Store calls made in the same event-loop turn under the same key run
 * together at the end of the turn (`setImmediate`, after the poll phase has
 * read every request that was ready): under load, many requests' Redis calls
 * become one socket write and one read of the replies. Alone, a call waits
 * no longer than the rest of its turn.
 */

/** One caller's item, and how to answer it. */
export interface Pending<I, R> {
  readonly item: I;
  resolve(result: R): void;
  reject(err: unknown): void;
}

/**
 * `run` answers every pending item; if it throws, every item it left
 * unanswered gets the error.
 *
 * @example const take = turnBatcher<Args, Reply>(async (batch) => { … batch[i].resolve(reply) … });
 *          const reply = await take(tag, args);
 */
export function turnBatcher<I, R>(
  run: (batch: readonly Pending<I, R>[]) => Promise<void>,
): (key: string, item: I) => Promise<R> {
  const open = new Map<string, Pending<I, R>[]>();
  const flush = (key: string) => {
    const batch = open.get(key)!;
    open.delete(key);
    run(batch).catch((err: unknown) => {
      for (const p of batch) p.reject(err);
    });
  };
  return (key, item) =>
    new Promise<R>((resolve, reject) => {
      let batch = open.get(key);
      if (!batch) {
        batch = [];
        open.set(key, batch);
        setImmediate(flush, key);
      }
      batch.push({ item, resolve, reject });
    });
}
