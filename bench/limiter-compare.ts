/**
 * `node bench/limiter-compare.ts`: a request matching 3 limits (per user, per
 * ip, global), counted two ways against the Redis on 127.0.0.1:6379 (or
 * $BENCH_REDIS_URL):
 *   (a) rate-limiter-flexible: `RateLimiterRedis.consume` on each of the 3
 *       limiters in parallel, `reward` to the ones that passed when any rejects;
 *   (b) keygate's quota service: one Lua script call for all 3.
 * Prints throughput and latency, then the exactness of each under contention.
 * Keys use a unique per-run prefix and are deleted afterwards. ~15 s.
 */
import { performance } from "node:perf_hooks";
import pino from "pino";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { createQuotaService, type Subject } from "../gateway/limits/quota-service.ts";
import { createMetrics } from "../gateway/metrics.ts";
import { createRedisConnection, whenReady } from "../gateway/store/redis.ts";
import type { CompiledLimit, Per } from "../policies/types.ts";

const URL = process.env["BENCH_REDIS_URL"] ?? "redis://127.0.0.1:6379";
const RUN = `bench${process.pid}${Date.now().toString(36)}`;
const SECONDS = 4;
const CONCURRENCY = 32;
const USERS = 1_000;

const redis = createRedisConnection({ REDIS_URL: URL })!;
await whenReady(redis, 5_000);
const quotas = createQuotaService({
  redis,
  replicas: 1,
  metrics: createMetrics(),
  logger: pino({ level: "silent" }),
});

function limit(name: string, per: Per, quota: number, tokens?: number): CompiledLimit {
  return {
    name: `${RUN}-${name}`,
    scope: "app",
    per,
    rate: { quota, windowMs: 60_000, text: `${quota}/1m` },
    ...(tokens === undefined ? {} : { tokens: { quota: tokens, windowMs: 60_000, text: `${tokens}/1m` } }),
    count: ["input", "output"],
    onStoreFailure: "local",
    shadow: false,
    tiers: new Map(),
    matches: () => true,
  };
}

function rlf(name: string, points: number): RateLimiterRedis {
  return new RateLimiterRedis({ storeClient: redis, keyPrefix: `${RUN}-rlf-${name}`, points, duration: 60 });
}

/** (a): consume on all three; on any rejection give back what the others took. Returns which limiter rejected. */
async function rlfRequest(limiters: RateLimiterRedis[], keys: string[], points = 1): Promise<boolean[]> {
  const results = await Promise.allSettled(limiters.map((l, i) => l.consume(keys[i]!, points)));
  const rejected = results.map((r) => r.status === "rejected");
  for (const r of results)
    if (r.status === "rejected" && !(r.reason instanceof RateLimiterRes)) throw r.reason;
  if (rejected.some(Boolean)) {
    await Promise.all(limiters.map((l, i) => (rejected[i] ? undefined : l.reward(keys[i]!, points))));
  }
  return rejected;
}

async function measure(label: string, op: (i: number) => Promise<unknown>) {
  const latencies: number[] = [];
  const end = performance.now() + SECONDS * 1_000;
  let n = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const i = n++;
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((x, y) => x - y);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(2);
  const rate = Math.round(latencies.length / SECONDS);
  console.log(
    `${label.padEnd(44)} ${String(rate).padStart(8)} ops/s   p50 ${pct(0.5)} ms   p99 ${pct(0.99)} ms`,
  );
}

const subject = (i: number): Subject => ({
  user: `u${i % USERS}`,
  tier: undefined,
  ip: `10.0.${(i >> 8) & 255}.${i & 255}`,
});

console.log(
  `# throughput: 3 limits per request, ${CONCURRENCY} in flight, ${SECONDS} s each, ${USERS} users\n`,
);
const big = [limit("t-user", "user", 1e9), limit("t-ip", "ip", 1e9), limit("t-global", "global", 1e9)];
const bigRlf = [rlf("t-user", 1e9), rlf("t-ip", 1e9), rlf("t-global", 1e9)];
await measure("(a) rate-limiter-flexible consume x3 + reward", (i) => {
  const s = subject(i);
  return rlfRequest(bigRlf, [s.user!, s.ip, "all"]);
});
await measure("(b) keygate: one Lua script", (i) => quotas.check(big, subject(i)));

console.log("\n# exactness: 300 requests at once from one user; per-user 100/1m, global 50/1m\n");
{
  const rl = [rlf("x-user", 100), rlf("x-ip", 1e9), rlf("x-global", 50)];
  const outcomes = await Promise.all(
    Array.from({ length: 300 }, () => rlfRequest(rl, ["alice", "1.2.3.4", "all"])),
  );
  const passed = outcomes.filter((r) => !r.some(Boolean)).length;
  const byUser = outcomes.filter((r) => r[0]).length;
  const [userRes, globalRes] = await Promise.all([rl[0]!.get("alice"), rl[2]!.get("all")]);
  console.log(
    `(a) passed ${passed}; rejected by the per-user limit: ${byUser} (it never should be: only ${passed} passed); ` +
      `stored after: per-user ${userRes?.consumedPoints}, global ${globalRes?.consumedPoints} (rejected requests counted)`,
  );
  const ours = [limit("x-user", "user", 100), limit("x-ip", "ip", 1e9), limit("x-global", "global", 50)];
  const who: Subject = { user: "alice", tier: undefined, ip: "1.2.3.4" };
  const decisions = await Promise.all(Array.from({ length: 300 }, () => quotas.check(ours, who)));
  const oursPassed = decisions.filter((d) => d.allowed).length;
  const oursByUser = decisions.filter((d) => !d.allowed && d.violated.includes(ours[0]!.name)).length;
  const usage = await quotas.peek(ours, who);
  console.log(
    `(b) passed ${oursPassed}; rejected by the per-user limit: ${oursByUser}; ` +
      `stored after: per-user ${100 - usage[0]!.remaining}, global ${50 - usage[2]!.remaining}`,
  );
}

console.log(
  "\n# token reservations: quota 1000; reserve 600 (fits), 600 (too big), then 300 (fits: 600 + 300 <= 1000)\n",
);
{
  const tok = rlf("tok", 1000);
  const steps: string[] = [];
  for (const cost of [600, 600, 300]) {
    const ok = await tok.consume("alice", cost).then(
      () => true,
      () => false,
    );
    steps.push(`${cost}: ${ok ? "pass" : "reject"}`);
  }
  console.log(`(a) ${steps.join(", ")}; stored after: ${(await tok.get("alice"))?.consumedPoints} tokens`);
  const l = { ...limit("tok", "user", 1e9, 1000) };
  const who: Subject = { user: "alice", tier: undefined, ip: "1.2.3.4" };
  const ours: string[] = [];
  for (const cost of [600, 600, 300])
    ours.push(`${cost}: ${(await quotas.check([l], who, cost)).allowed ? "pass" : "reject"}`);
  const [, tokens] = await quotas.peek([l], who);
  console.log(`(b) ${ours.join(", ")}; stored after: ${1000 - tokens!.remaining} tokens`);
}

let cursor = "0";
let deleted = 0;
do {
  const [next, keys] = await (redis as import("ioredis").Redis).scan(
    cursor,
    "MATCH",
    `*${RUN}*`,
    "COUNT",
    1000,
  );
  cursor = next;
  if (keys.length > 0) deleted += await redis.del(...keys);
} while (cursor !== "0");
console.log(`\n(cleaned up ${deleted} bench keys)`);
await quotas.close();
redis.disconnect();
