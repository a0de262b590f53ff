import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../../gateway/limits/memory-store.ts";
import type { Counter } from "../../gateway/limits/types.ts";
import { conformance } from "./conformance.ts";

conformance("memory store", { redis: () => undefined });

const counter = (key: string, over: Partial<Counter> = {}): Counter => ({
  key,
  tag: "{g}",
  kind: "r",
  limit: "l",
  quota: 10,
  windowMs: 1_000,
  cost: 1,
  enforce: true,
  ...over,
});

describe("memory store housekeeping", () => {
  it("sweeps expired windows and leases without per-key timers (10,000 users)", async () => {
    let now = 1_000_000;
    const store = createMemoryStore({ now: () => now });
    for (let i = 0; i < 10_000; i++) await store.take([counter(`k${i}`)], "lease");
    await store.take([counter("lease-key", { kind: "c", windowMs: 500 })], "lease");
    expect(store.size()).toBe(10_001);
    now += 2_000;
    await store.take([counter("fresh")], "lease");
    expect(store.size()).toBe(1);
  });

  it("never takes a counter below zero", async () => {
    const now = 5_000;
    const store = createMemoryStore({ now: () => now });
    const { states } = await store.take([counter("k", { cost: 3 })], "x");
    await store.adjust([{ key: "k", tag: "{g}", start: states[0]!.start, delta: -50 }]);
    expect((await store.peek([counter("k")]))[0]!.used).toBe(0);
  });
});
