import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBareProxy } from "../../bench/bare-proxy.ts";
import { closedLoop, type LoadTarget, openLoop } from "../../bench/lib/load.ts";
import { parseBenchOptions } from "../../bench/lib/options.ts";
import {
  ANSWER_BYTES,
  chatAnswer,
  chatRequest,
  chatStream,
  REQUEST_BYTES,
} from "../../bench/lib/payloads.ts";
import { median, percentile } from "../../bench/lib/stats.ts";
import { createMockUpstream } from "../../bench/mock-upstream.ts";

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe("bench payloads", () => {
  it("moves exactly the baseline's byte counts, as valid JSON", () => {
    expect(chatRequest(false).length).toBe(REQUEST_BYTES);
    expect(chatAnswer().length).toBe(ANSWER_BYTES);
    expect(JSON.parse(chatRequest(true).toString())).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(JSON.parse(chatAnswer().toString()).usage).toEqual({
      prompt_tokens: 24,
      completion_tokens: 64,
      total_tokens: 88,
    });
  });

  it("streams content chunks, then usage, then [DONE]", () => {
    const chunks = chatStream(3).map(String);
    expect(chunks).toHaveLength(4);
    expect(chunks.at(-1)).toContain('"usage":{"prompt_tokens":24,"completion_tokens":3,"total_tokens":27}');
    expect(chunks.at(-1)!.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(() => chatStream(0)).toThrow("stream chunk count must be ≥ 1, got 0");
  });
});

describe("bench statistics", () => {
  it("takes nearest-rank percentiles from raw samples", () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 99.9)).toBe(100);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(sorted, 0)).toThrow("percentile must be in (0, 100], got 0");
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});

describe("bench options", () => {
  it("defaults to a bounded run and lets flags win over env", () => {
    const o = parseBenchOptions(["--duration", "2"], { BENCH_DURATION: "9", BENCH_REPS: "4" });
    expect(o).toMatchObject({
      durationS: 2,
      reps: 4,
      users: 1000,
      connections: 50,
      rates: [500, 2000],
      warmupS: 5,
      primeS: 1,
      quick: false,
    });
    expect(parseBenchOptions(["--quick"], {})).toMatchObject({
      durationS: 1,
      reps: 1,
      warmupS: 0.5,
      primeS: 0.3,
    });
    expect(parseBenchOptions(["--prime", "2.5"], { BENCH_PRIME: "4" }).primeS).toBe(2.5);
  });

  it("refuses a bad value with the usage", () => {
    expect(() => parseBenchOptions(["--reps", "1.5"], {})).toThrow(
      /^--reps must be a whole number above 0, got "1.5"\nusage:/,
    );
    expect(() => parseBenchOptions([], { BENCH_DURATION: "soon" })).toThrow(
      /^--duration must be a number above 0/,
    );
    expect(() => parseBenchOptions(["--nope"], {})).toThrow("Unknown option '--nope'");
  });
});

describe("mock upstream behind the bare proxy", () => {
  let mock: Server;
  let proxy: Server;
  let proxyUrl: string;

  beforeAll(async () => {
    mock = createMockUpstream({ streamChunks: 4 });
    const mockUrl = await listen(mock);
    proxy = createServer(
      getRequestListener(createBareProxy(mockUrl, 8).fetch, { autoCleanupIncoming: false }),
    );
    proxyUrl = await listen(proxy);
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    mock.closeAllConnections();
    await Promise.all([close(proxy), close(mock)]);
  });

  const target = (stream: boolean): LoadTarget => ({
    origin: proxyUrl,
    path: "/v1/chat/completions",
    method: "POST",
    body: chatRequest(stream).toString(),
    headers: [],
  });

  it("forwards the chat request and returns the 635-byte answer", async () => {
    const res = await request(`${proxyUrl}/v1/chat/completions`, {
      method: "POST",
      body: chatRequest(false),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(Buffer.from(await res.body.arrayBuffer())).toEqual(chatAnswer());
  });

  it("streams the SSE answer through unchanged", async () => {
    const res = await request(`${proxyUrl}/v1/chat/completions`, { method: "POST", body: chatRequest(true) });
    expect(res.headers["content-type"]).toBe("text/event-stream");
    expect(await res.body.text()).toBe(chatStream(4).map(String).join(""));
  });

  it("open loop sends exactly rate × duration requests and times each one", async () => {
    const r = await openLoop(target(false), ["t1", "t2"], { rate: 200, durationMs: 500, connections: 4 });
    expect(r.sent).toBe(100);
    expect(r.ok).toBe(100);
    expect(r.errors).toBe(0);
    expect(r.statuses).toEqual({ 200: 100 });
    expect(r.latencyUs).toHaveLength(100);
    expect(r.ttfbUs).toHaveLength(100);
    expect(r.sendLagUs).toHaveLength(100);
  });

  it("closed loop counts only 2xx answers after the ramp, streamed too", async () => {
    const r = await closedLoop(target(true), [], { connections: 4, durationMs: 300, rampMs: 100 });
    expect(r.errors).toBe(0);
    expect(r.ok).toBeGreaterThan(0);
    expect(r.statuses).toEqual({ 200: r.ok });
    expect(r.rps).toBe(r.ok / 0.3);
  });
});
