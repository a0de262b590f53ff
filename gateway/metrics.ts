import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Every metric keygate exports, on one registry per process (no global
 * registry: tests build several gateways in one process).
 *
 * The names here are a contract with `deploy/` dashboards and alarms; a test
 * checks that every name those files use is exported by a running gateway.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "keygate_process_" });

  const metrics = {
    registry,
    requests: new Counter({
      name: "keygate_requests_total",
      help: "Requests answered, by listener, route (app, keys, healthz, usage, or the provider name) and status code.",
      labelNames: ["listener", "route", "status"] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: "keygate_request_duration_seconds",
      help: "Time from request to the end of the answer (streams: to the last byte).",
      labelNames: ["listener", "route"] as const,
      buckets: [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
      ],
      registers: [registry],
    }),
    rejections: new Counter({
      name: "keygate_ratelimit_rejections_total",
      help: "Requests rejected with 429, by the limit that rejected and the limit's kind (requests, tokens, concurrent).",
      labelNames: ["limit", "kind"] as const,
      registers: [registry],
    }),
    shadowRejections: new Counter({
      name: "keygate_ratelimit_shadow_rejections_total",
      help: "Requests a shadow limit would have rejected (they passed).",
      labelNames: ["limit", "kind"] as const,
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: "keygate_store_errors_total",
      help: "Failed calls to the shared store, by store (quota, vault) and operation.",
      labelNames: ["store", "op"] as const,
      registers: [registry],
    }),
    storeDegraded: new Gauge({
      name: "keygate_store_degraded",
      help: "1 while the shared store is unreachable and limits run per on_store_failure.",
      registers: [registry],
    }),
    policyInfo: new Gauge({
      name: "keygate_policy_info",
      help: "The loaded policy: 1 for its file hash and limit count.",
      labelNames: ["hash", "limits"] as const,
      registers: [registry],
    }),
    policyReloads: new Counter({
      name: "keygate_policy_reloads_total",
      help: "Policy reloads by result (ok, error).",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: "keygate_upstream_errors_total",
      help: "Upstream calls that failed before an answer, by upstream (app or provider) and kind (connect, timeout, reset).",
      labelNames: ["upstream", "kind"] as const,
      registers: [registry],
    }),
    llmTokens: new Counter({
      name: "keygate_llm_tokens_total",
      help: "LLM tokens reported by providers, by provider and kind (input, output, cached).",
      labelNames: ["provider", "kind"] as const,
      registers: [registry],
    }),
    tokenSettlement: new Counter({
      name: "keygate_token_settlement_tokens_total",
      help: "Tokens given back (refund) or charged on top (charge) when a reservation settles to real usage.",
      labelNames: ["provider", "direction"] as const,
      registers: [registry],
    }),
    guardRejections: new Counter({
      name: "keygate_guard_rejections_total",
      help: "LLM requests rejected by a guard, by provider and guard.",
      labelNames: ["provider", "guard"] as const,
      registers: [registry],
    }),
    concurrencyInUse: new Gauge({
      name: "keygate_concurrency_leases",
      help: "Concurrency leases held by this instance, by provider.",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    vaultOps: new Counter({
      name: "keygate_vault_operations_total",
      help: "Vault operations by op (put, get, delete, list, verify, decrypt) and result (ok, missing, error).",
      labelNames: ["op", "result"] as const,
      registers: [registry],
    }),
    vaultRecords: new Gauge({
      name: "keygate_vault_records",
      help: "Provider keys stored in the shared (Redis) vault; a drop to 0 means keys were removed or Redis lost data.",
      registers: [registry],
    }),
    draining: new Gauge({
      name: "keygate_draining",
      help: "1 after SIGTERM while in-flight requests finish.",
      registers: [registry],
    }),
  };
  // The reload-failure alarm must see the first failure: CloudWatch publishes counter deltas from a series'
  // second scrape on, so the series exist at 0 from the start.
  for (const result of ["ok", "error"]) metrics.policyReloads.inc({ result }, 0);
  metrics.storeDegraded.set(0);
  metrics.draining.set(0);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
