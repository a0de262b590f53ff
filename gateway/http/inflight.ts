import type { MiddlewareHandler } from "hono";

/**
 * Counts requests whose handlers are still running. Sockets can close
 * before a handler has finished its bookkeeping (an egress call settles its
 * token reservation and releases its concurrency lease after the stream
 * ends), so shutdown waits for this to reach zero before closing Redis.
 */
export interface Inflight {
  readonly stage: MiddlewareHandler;
  /** Resolves when no handler is running, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void>;
}

export function createInflight(): Inflight {
  let running = 0;
  let waiters: (() => void)[] = [];
  const done = () => {
    running--;
    if (running > 0) return;
    for (const wake of waiters) wake();
    waiters = [];
  };
  return {
    async stage(_c, next) {
      running++;
      try {
        await next();
      } finally {
        done();
      }
    },
    idle(timeoutMs) {
      if (running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
