/**
 * Whether the shared quota store is usable. After a failure the service stops
 * sending requests to it (so none pays a timeout) and probes it in the
 * background at most once per `probeEveryMs`; the first success, from a probe
 * or any other call, resumes shared counting.
 */
import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";

export interface StoreHealth {
  /** True while degraded; starts a background probe when one is due. */
  degraded(): boolean;
  /** Records a failed call (`op`: check, settle, renew, release, peek, ping). */
  failed(op: string, err: unknown): void;
  /** Records a successful call. */
  succeeded(): void;
}

export function createStoreHealth(deps: {
  probe: () => Promise<void>;
  metrics: Metrics;
  logger: Logger;
  probeEveryMs?: number;
}): StoreHealth {
  const probeEveryMs = deps.probeEveryMs ?? 1_000;
  let down = false;
  let nextProbeAt = 0;
  let probing = false;

  const health: StoreHealth = {
    degraded() {
      if (!down) return false;
      const now = Date.now();
      if (!probing && now >= nextProbeAt) {
        probing = true;
        nextProbeAt = now + probeEveryMs;
        deps
          .probe()
          .then(health.succeeded, (err: unknown) => health.failed("probe", err))
          .finally(() => {
            probing = false;
          });
      }
      return true;
    },
    failed(op, err) {
      deps.metrics.storeErrors.inc({ store: "quota", op });
      if (down) return;
      down = true;
      nextProbeAt = Date.now() + probeEveryMs;
      deps.metrics.storeDegraded.set(1);
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      deps.logger.warn({ op, cause }, "quota store unavailable; limits follow on_store_failure");
    },
    succeeded() {
      if (!down) return;
      down = false;
      deps.metrics.storeDegraded.set(0);
      deps.logger.info("quota store reachable again; shared counting resumed");
    },
  };
  return health;
}
