/**
 * The quota semantics every store must meet (SPEC §7, §8), run through the
 * public QuotaService against Redis and against the memory store. `stored`
 * (Redis only) lets a test check what the store itself holds.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { QuotaService, Subject } from "../../gateway/limits/quota-service.ts";
import type { RedisConnection } from "../../gateway/store/redis.ts";
import { harness, limit, metricValue, sleep, unique } from "./fixtures.ts";

export interface StoreUnderTest {
  redis(): RedisConnection | undefined;
  /** The `{s, n}` hash of a window counter, or undefined (memory store: not inspectable). */
  stored?(key: string): Promise<Record<string, string>>;
}

const user = (name: string, tier?: string): Subject => ({ user: name, tier, ip: "192.0.2.7" });

export function conformance(label: string, sut: StoreUnderTest): void {
  describe(`quota semantics (${label})`, () => {
    const open: QuotaService[] = [];
    const make = (extra: { leaseTtlMs?: number } = {}) => {
      const h = harness(sut.redis(), extra);
      open.push(h.quotas);
      return h;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((q) => q.close()));
    });

    it("200 parallel checks against a quota of 60 allow exactly 60", async () => {
      const { quotas } = make();
      const l = limit({ name: unique("exact"), rate: "60/1m" });
      const who = user(unique("u"));
      const decisions = await Promise.all(Array.from({ length: 200 }, () => quotas.check([l], who)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(60);
      const [usage] = await quotas.peek([l], who);
      expect(usage).toMatchObject({ limit: l.name, kind: "requests", quota: 60, remaining: 0 });
      if (sut.stored) {
        const held = await sut.stored(`kg:q:{u:${who.user}}:${l.name}:r`);
        expect(held["n"]).toBe("60");
      }
    });

    it("a request rejected by one limit consumes nothing from the others", async () => {
      const { quotas } = make();
      const perUser = limit({ name: unique("per-user"), rate: "10/1m" });
      const global = limit({ name: unique("global"), per: "global", rate: "3/1m" });
      const who = user(unique("u"));
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await quotas.check([perUser, global], who));
      expect(results.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
      const denied = results[4]!;
      expect(denied.allowed === false && denied.violated).toEqual([global.name]);
      const usage = await quotas.peek([perUser, global], who);
      expect(usage.map((u) => u.remaining)).toEqual([7, 0]);
      if (sut.stored) {
        expect((await sut.stored(`kg:q:{u:${who.user}}:${perUser.name}:r`))["n"]).toBe("3");
        expect((await sut.stored(`kg:q:{g}:${global.name}:r`))["n"]).toBe("3");
      }
    });

    it("a window starts at the key's first hit and resets when it ends", async () => {
      const { quotas } = make();
      const l = limit({ name: unique("window"), rate: "2/1s" });
      const who = user(unique("u"));
      const before = Date.now();
      expect((await quotas.check([l], who)).allowed).toBe(true);
      const after = Date.now();
      if (sut.stored) {
        const start = Number((await sut.stored(`kg:q:{u:${who.user}}:${l.name}:r`))["s"]);
        expect(start).toBeGreaterThanOrEqual(before - 5);
        expect(start).toBeLessThanOrEqual(after + 5);
      }
      await sleep(400);
      expect((await quotas.check([l], who)).allowed).toBe(true);
      expect((await quotas.check([l], who)).allowed).toBe(false);
      // 1.25 s after the first hit: a window that started at the second hit (400 ms later) would still be full.
      await sleep(Math.max(0, before + 1_250 - Date.now()));
      expect((await quotas.check([l], who)).allowed).toBe(true);
    });

    it("shadow limits count and report would-be rejections but never reject or show in headers", async () => {
      const { quotas, metrics } = make();
      const real = limit({ name: unique("real"), rate: "100/1m" });
      const shadow = limit({ name: unique("shadow"), rate: "2/1m", shadow: true });
      const who = user(unique("u"));
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await quotas.check([real, shadow], who));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true]);
      expect(decisions.map((d) => (d.allowed ? d.shadowViolations : null))).toEqual([
        [],
        [],
        [shadow.name],
        [shadow.name],
      ]);
      for (const d of decisions) expect(JSON.stringify(d.headers)).not.toContain(shadow.name);
      expect(await metricValue(metrics.shadowRejections, { limit: shadow.name, kind: "requests" })).toBe(2);
      expect(await metricValue(metrics.rejections)).toBe(0);
    });

    it("a shadow limit is counted only when the request passes", async () => {
      const { quotas } = make();
      const real = limit({ name: unique("real"), rate: "1/1m" });
      const shadow = limit({ name: unique("shadow"), rate: "10/1m", shadow: true });
      const who = user(unique("u"));
      await quotas.check([real, shadow], who);
      await quotas.check([real, shadow], who);
      await quotas.check([real, shadow], who);
      expect(await quotas.peek([shadow], who)).toEqual([]);
      if (sut.stored) expect((await sut.stored(`kg:q:{u:${who.user}}:${shadow.name}:r`))["n"]).toBe("1");
    });

    it("a tier's override replaces the base quota", async () => {
      const { quotas } = make();
      const l = limit({ name: unique("tiered"), rate: "2/1m", tiers: { pro: { rate: "4/1m" } } });
      const count = async (who: Subject) => {
        let n = 0;
        for (let i = 0; i < 6; i++) if ((await quotas.check([l], who)).allowed) n++;
        return n;
      };
      expect(await count(user(unique("pro"), "pro"))).toBe(4);
      expect(await count(user(unique("free"), "free"))).toBe(2);
      expect(await count(user(unique("none")))).toBe(2);
    });

    it("per-user limits skip anonymous requests; per-ip limits key on the address", async () => {
      const { quotas } = make();
      const perUser = limit({ name: unique("per-user"), rate: "1/1m" });
      const perIp = limit({ name: unique("per-ip"), per: "ip", rate: "2/1m" });
      const anon: Subject = { user: undefined, tier: undefined, ip: `198.51.100.${(process.pid % 200) + 1}` };
      const first = await quotas.check([perUser], anon);
      expect(first).toMatchObject({ allowed: true, headers: {} });
      expect((await quotas.check([perUser], anon)).allowed).toBe(true);
      const ipResults = [];
      for (let i = 0; i < 3; i++) ipResults.push((await quotas.check([perUser, perIp], anon)).allowed);
      expect(ipResults).toEqual([true, true, false]);
      expect((await quotas.check([perIp], { ...anon, ip: "2001:db8::1" })).allowed).toBe(true);
    });

    it("token reservations settle to actual usage: refunds and extra charges, once per ticket", async () => {
      const { quotas } = make();
      const l = limit({ name: unique("tok"), tokens: "1000/1m" });
      const who = user(unique("u"));
      const a = await quotas.check([l], who, 300);
      if (!a.allowed) throw new Error("expected pass");
      expect((await quotas.peek([l], who))[0]).toMatchObject({ kind: "tokens", quota: 1000, remaining: 700 });
      await quotas.settle(a.ticket, 100);
      await quotas.settle(a.ticket, 0); // a second settle is ignored
      expect((await quotas.peek([l], who))[0]!.remaining).toBe(900);
      const b = await quotas.check([l], who, 100);
      if (!b.allowed) throw new Error("expected pass");
      await quotas.settle(b.ticket, 400);
      expect((await quotas.peek([l], who))[0]!.remaining).toBe(500);
      const c = await quotas.check([l], who, 600);
      expect(c).toMatchObject({ allowed: false, violated: [l.name], shouldRetry: true });
      expect((await quotas.peek([l], who))[0]!.remaining).toBe(500);
    });

    it("a settlement aimed at a window that has ended is dropped, never carried into the next", async () => {
      const { quotas } = make();
      const l = limit({ name: unique("tok-window"), tokens: "1000/1s" });
      const who = user(unique("u"));
      const refund = await quotas.check([l], who, 600);
      const extra = await quotas.check([l], who, 100);
      if (!refund.allowed || !extra.allowed) throw new Error("expected pass");
      await sleep(1_250);
      const next = await quotas.check([l], who, 100);
      expect(next.allowed).toBe(true);
      await quotas.settle(refund.ticket, 0);
      await quotas.settle(extra.ticket, 900);
      expect((await quotas.peek([l], who))[0]!.remaining).toBe(900);
    });

    it("a reservation larger than the quota can never fit: shouldRetry false, nothing consumed", async () => {
      const { quotas } = make();
      const l = limit({ name: unique("huge"), rate: "10/1m", tokens: "1000/1m" });
      const who = user(unique("u"));
      const d = await quotas.check([l], who, 1_500);
      expect(d).toMatchObject({ allowed: false, violated: [l.name], shouldRetry: false });
      expect((await quotas.peek([l], who)).map((u) => u.remaining)).toEqual([10, 1000]);
    });

    it("a token limit that is used up rejects even a request reserving nothing", async () => {
      const { quotas } = make();
      const l = limit({ name: unique("tok-zero"), tokens: "100/1m" });
      const who = user(unique("u"));
      const a = await quotas.check([l], who);
      if (!a.allowed) throw new Error("expected pass");
      await quotas.settle(a.ticket, 100);
      expect(await quotas.check([l], who)).toMatchObject({ allowed: false, violated: [l.name] });
    });

    it("concurrency leases: up to N at once, released on release, once", async () => {
      const { quotas, metrics } = make();
      const l = limit({ name: unique("conc"), concurrent: 2 });
      const who = user(unique("u"));
      const a = await quotas.check([l], who);
      const b = await quotas.check([l], who);
      if (!a.allowed || !b.allowed) throw new Error("expected pass");
      expect(await quotas.check([l], who)).toMatchObject({
        allowed: false,
        violated: [l.name],
        retryAfterS: 1,
      });
      expect(await metricValue(metrics.rejections, { limit: l.name, kind: "concurrent" })).toBe(1);
      expect((await quotas.peek([l], who))[0]).toMatchObject({ kind: "concurrent", quota: 2, remaining: 0 });
      await quotas.release(a.ticket);
      await quotas.release(a.ticket); // idempotent: must not free b's lease
      const c = await quotas.check([l], who);
      expect(c.allowed).toBe(true);
      expect((await quotas.check([l], who)).allowed).toBe(false);
    });

    it("a crashed holder's lease expires; renew keeps a live one", async () => {
      const { quotas } = make({ leaseTtlMs: 1_000 });
      const l = limit({ name: unique("lease"), concurrent: 1 });
      const who = user(unique("u"));
      const held = await quotas.check([l], who);
      if (!held.allowed) throw new Error("expected pass");
      await sleep(600);
      await quotas.renew(held.ticket);
      await sleep(600); // 1.2 s after acquiring, 0.6 s after renewing
      expect((await quotas.check([l], who)).allowed).toBe(false);
      await sleep(800); // the holder "crashed": no more renewals
      expect((await quotas.check([l], who)).allowed).toBe(true);
    });

    it("a reloaded limit with the same name keeps its counter; a new quota applies at once", async () => {
      const { quotas } = make();
      const name = unique("reload");
      const who = user(unique("u"));
      const before = limit({ name, rate: "3/1m" });
      await quotas.check([before], who);
      await quotas.check([before], who);
      const after = limit({ name, rate: "5/1m" });
      expect((await quotas.peek([after], who))[0]).toMatchObject({ quota: 5, remaining: 3 });
      const smaller = limit({ name, rate: "2/1m" });
      expect((await quotas.check([smaller], who)).allowed).toBe(false);
    });

    it("bad arguments throw and change nothing", async () => {
      const { quotas } = make();
      const l = limit({ name: unique("bad"), rate: "5/1m", tokens: "100/1m" });
      const who = user(unique("u"));
      for (const bad of [-1, 1.5, Number.NaN]) {
        await expect(quotas.check([l], who, bad)).rejects.toThrow(
          `reserveTokens must be a whole number ≥ 0, got ${bad}`,
        );
      }
      const d = await quotas.check([l], who, 10);
      if (!d.allowed) throw new Error("expected pass");
      await expect(quotas.settle(d.ticket, -5)).rejects.toThrow(
        "actualTokens must be a whole number ≥ 0, got -5",
      );
      expect((await quotas.peek([l], who)).map((u) => u.remaining)).toEqual([4, 90]);
    });
  });
}
