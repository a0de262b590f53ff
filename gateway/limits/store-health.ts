/**
 * Whether the shared quota store is usable: as a whole for a single Redis
 * (`createStoreHealth`), per master for a Redis Cluster (`createNodeHealth`).
 * After a failure the service stops sending requests to it (so none pays a
 * timeout) and probes it in the background at most once per `probeEveryMs`;
 * the first success, from a probe or any other call, resumes shared counting.
 * Both drive `keygate_store_degraded` and count `keygate_store_errors_total`.
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

/** A cluster master's routing state: `probe` means down, and this caller should probe it now. */
export type NodeState = "up" | "down" | "probe";

/**
 * Per-master health on a Redis Cluster: a master whose call failed is skipped
 * (its slots' counters follow `on_store_failure` at once instead of each
 * paying ~0.1–0.7 s of redirection retries) until a call, a probe (at most one
 * per `probeEveryMs`, sent by the store on a key of that master's slots) or a
 * ping to it succeeds. The other masters keep shared counting.
 */
export interface NodeHealth {
  /** Whether calls for `node` (`host:port`) should go to Redis. */
  state(node: string): NodeState;
  /** Records a failed call to `node` (`op`: check, settle, renew, release, peek, ping, probe). */
  failed(node: string, op: string, err: unknown): void;
  /** Records a successful call to `node`. */
  succeeded(node: string): void;
}

export function createNodeHealth(deps: {
  metrics: Metrics;
  logger: Logger;
  probeEveryMs?: number;
}): NodeHealth {
  const probeEveryMs = deps.probeEveryMs ?? 1_000;
  /** Down masters and when each may next be probed. */
  const down = new Map<string, number>();

  return {
    state(node) {
      if (down.size === 0) return "up";
      const nextProbeAt = down.get(node);
      if (nextProbeAt === undefined) return "up";
      const now = Date.now();
      if (now < nextProbeAt) return "down";
      down.set(node, now + probeEveryMs);
      return "probe";
    },
    failed(node, op, err) {
      if (op !== "probe") deps.metrics.storeErrors.inc({ store: "quota", op });
      if (down.has(node)) return;
      down.set(node, Date.now() + probeEveryMs);
      deps.metrics.storeDegraded.set(1);
      const cause = err instanceof Error ? err.message : String(err);
      deps.logger.warn(
        { op, node, cause },
        "quota store master unavailable; limits on its slots follow on_store_failure",
      );
    },
    succeeded(node) {
      if (down.size === 0 || !down.delete(node)) return;
      if (down.size === 0) deps.metrics.storeDegraded.set(0);
      deps.logger.info({ node }, "quota store master reachable again; shared counting resumed on its slots");
    },
  };
}
