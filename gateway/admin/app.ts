import { Hono } from "hono";
import type { QuotaService } from "../limits/quota-service.ts";
import type { Metrics } from "../metrics.ts";
import type { RuntimeRef } from "../runtime.ts";

export interface AdminDeps {
  readonly runtime: RuntimeRef;
  readonly quotas: QuotaService;
  readonly metrics: Metrics;
  readonly draining: () => boolean;
}

/**
 * Health and metrics (SPEC §6), on its own loopback listener by default.
 * `/readyz` is what load balancers and ECS act on: 503 while draining, and
 * 503 when the store is down and some limit says `on_store_failure: deny`
 * (the gateway would answer 503 anyway); degraded-but-serving is 200.
 */
export function createAdminApp(deps: AdminDeps): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    if (deps.draining()) return c.json({ status: "draining" }, 503);
    const store = await deps.quotas.ping();
    if (store === "ok") return c.json({ store });
    const denies = deps.runtime.current.policy.limits.some((limit) => limit.onStoreFailure === "deny");
    return denies ? c.json({ store: "unavailable" }, 503) : c.json({ store });
  });
  app.get("/metrics", async (c) => {
    const body = await deps.metrics.registry.metrics();
    return c.body(body, 200, { "content-type": deps.metrics.registry.contentType });
  });
  return app;
}
