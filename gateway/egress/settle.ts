import type { QuotaService, Ticket } from "../limits/quota-service.ts";
import type { Metrics } from "../metrics.ts";
import { countTokens, type Usage } from "../providers/usage/index.ts";

/**
 * After an LLM call: record usage, settle the token reservation to what the
 * provider reported, and release concurrency leases. Without a usage report
 * (upstream error, client gone mid-stream) nothing is charged: the provider
 * either failed the call or we cannot know what it billed.
 */
export async function settleCall(p: {
  quotas: QuotaService;
  ticket: Ticket;
  provider: string;
  reserved: number | undefined;
  usage: Usage | undefined;
  answered: boolean;
  metrics: Metrics;
}): Promise<void> {
  const { usage, metrics, provider } = p;
  if (usage) {
    for (const kind of ["input", "output", "cached"] as const) {
      if (usage[kind] > 0) metrics.llmTokens.inc({ provider, kind }, usage[kind]);
    }
  }
  const reserved = p.reserved;
  const settled =
    reserved === undefined
      ? undefined
      : p.quotas.settle(p.ticket, (count) => {
          const actual = usage ? countTokens(usage, count) : 0;
          const delta = actual - reserved;
          if (delta !== 0)
            metrics.tokenSettlement.inc(
              { provider, direction: delta < 0 ? "refund" : "charge" },
              Math.abs(delta),
            );
          return actual;
        });
  // Issued in the same turn: the Redis store sends both in one script call (see redis-store.ts).
  await Promise.all([settled, p.quotas.release(p.ticket)]);
}
