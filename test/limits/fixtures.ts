/** Builders for the limits tests: compiled limits without a policy file, and a quota service per store. */
import pino from "pino";
import { createQuotaService, type QuotaService } from "../../gateway/limits/quota-service.ts";
import { createMetrics, type Metrics } from "../../gateway/metrics.ts";
import type { RedisConnection } from "../../gateway/store/redis.ts";
import type { CompiledLimit, LimitOverride, OnStoreFailure, Per, Rate } from "../../policies/types.ts";

const UNIT = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

export function rate(text: string): Rate {
  const m = /^(\d+)\/(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`bad rate ${text}`);
  return { quota: Number(m[1]), windowMs: Number(m[2]) * UNIT[m[3] as keyof typeof UNIT], text };
}

export interface LimitSpec {
  name: string;
  per?: Per;
  rate?: string;
  tokens?: string;
  concurrent?: number;
  onStoreFailure?: OnStoreFailure;
  shadow?: boolean;
  tiers?: Record<string, { rate?: string; tokens?: string; concurrent?: number }>;
}

export function limit(spec: LimitSpec): CompiledLimit {
  const tiers = new Map<string, LimitOverride>();
  for (const [tier, o] of Object.entries(spec.tiers ?? {})) {
    tiers.set(tier, {
      ...(o.rate ? { rate: rate(o.rate) } : {}),
      ...(o.tokens ? { tokens: rate(o.tokens) } : {}),
      ...(o.concurrent !== undefined ? { concurrent: o.concurrent } : {}),
    });
  }
  return {
    name: spec.name,
    scope: "app",
    per: spec.per ?? "user",
    ...(spec.rate ? { rate: rate(spec.rate) } : {}),
    ...(spec.tokens ? { tokens: rate(spec.tokens) } : {}),
    ...(spec.concurrent !== undefined ? { concurrent: spec.concurrent } : {}),
    count: ["input", "output"],
    onStoreFailure: spec.onStoreFailure ?? "local",
    shadow: spec.shadow ?? false,
    tiers,
    matches: () => true,
  };
}

let seq = 0;
/** A name no other test in this process uses, so tests sharing a store never share counters. */
export const unique = (base: string): string => `${base}-${process.pid}-${++seq}`;

export interface Harness {
  quotas: QuotaService;
  metrics: Metrics;
}

export function harness(
  redis: RedisConnection | undefined,
  extra: { replicas?: number; leaseTtlMs?: number } = {},
) {
  const metrics = createMetrics();
  const quotas = createQuotaService({
    redis,
    replicas: extra.replicas ?? 1,
    metrics,
    logger: pino({ level: "silent" }),
    ...(extra.leaseTtlMs !== undefined ? { leaseTtlMs: extra.leaseTtlMs } : {}),
  });
  return { quotas, metrics };
}

/** Sum of a counter metric's values matching `labels`. */
export async function metricValue(
  metric: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok()` holds, polling; fails after `timeoutMs`. */
export async function until(ok: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
