/**
 * Graceful drain of a real keygate process (SPEC §2 KEYGATE_DRAIN_TIMEOUT,
 * §3 healthz, §6 readyz): on SIGTERM it fails readiness, stops accepting,
 * lets open streams finish up to the deadline, then exits 0; a second
 * SIGTERM exits at once.
 */
import { connect, type Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type KeygateProcess, spawnKeygate, testMasterKey } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";
import { policyWith, waitFor, within } from "./support.ts";

const secret = randomSecret();
const POLICY = policyWith(["{ name: roomy, scope: app, per: user, rate: 1000/1m }"]);
let app: MockApp;
let token: string;
let kg: KeygateProcess | undefined;

beforeAll(async () => {
  app = await startMockApp();
  token = await mintToken({ sub: "drainer", secret });
});
afterAll(async () => {
  await app.close();
});
afterEach(() => {
  // Every test ends the process itself; this only cleans up after a failure.
  if (kg && kg.child.exitCode === null) kg.child.kill("SIGKILL");
  kg = undefined;
});

const spawn = (drainTimeoutS: number) =>
  spawnKeygate(POLICY, {
    KEYGATE_JWT_SECRET: secret,
    APP_URL: app.url,
    KEYGATE_MASTER_KEYS: testMasterKey(),
    KEYGATE_DRAIN_TIMEOUT: String(drainTimeoutS),
  });

const expected = (chunks: number) => Array.from({ length: chunks }, (_, i) => `chunk-${i}\n`).join("");

/** Opens `/stream?chunks=N` and waits for its first chunk, so the stream is in flight. */
async function openStream(base: string, chunks: number) {
  const res = await fetch(`${base}/stream?chunks=${chunks}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const first = await reader.read();
  let text = decoder.decode(first.value, { stream: true });
  /** Reads to the end; `cut` is true when the connection was torn down mid-body. */
  const rest = async (): Promise<{ text: string; cut: boolean }> => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return { text, cut: false };
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      return { text, cut: true };
    }
  };
  return { rest };
}

/** Sends SIGTERM and waits until the admin listener reports draining. */
async function sigterm(k: KeygateProcess): Promise<void> {
  k.child.kill("SIGTERM");
  await waitFor(async () => (await fetch(`${k.urls.admin}/readyz`)).status === 503, "/readyz to answer 503");
}

/** Resolves with the error code of a fresh TCP connection attempt (undefined if it connected). */
function connectError(url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

describe("SIGTERM with a stream in flight", () => {
  test("the stream completes intact, readiness fails, new connections are refused, exit code 0", async () => {
    kg = await spawn(10);
    const stream = await openStream(kg.urls.ingress, 40);
    await sigterm(kg);

    const readyz = await fetch(`${kg.urls.admin}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toEqual({ status: "draining" });
    expect(await connectError(kg.urls.ingress)).toBe("ECONNREFUSED");
    expect(await connectError(kg.urls.egress)).toBe("ECONNREFUSED");

    expect(await within(stream.rest(), 8_000, "the in-flight stream")).toEqual({
      text: expected(40),
      cut: false,
    });
    expect(await within(kg.exited, 8_000, "exit after drain")).toBe(0);
  });

  test("a request on an already-open keep-alive connection gets 503 draining from /_keygate/healthz", async () => {
    kg = await spawn(10);
    const { hostname, port } = new URL(kg.urls.ingress);
    const socket: Socket = connect(Number(port), hostname);
    let received = "";
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString();
    });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => {});
    socket.write(`GET /stream?chunks=20 HTTP/1.1\r\nhost: keygate\r\nauthorization: Bearer ${token}\r\n\r\n`);
    await waitFor(() => received.includes("chunk-0"), "the first chunk on the raw connection");

    await sigterm(kg);
    // Pipelined behind the open stream: the connection is busy, so the drain cannot close it first.
    socket.write("GET /_keygate/healthz HTTP/1.1\r\nhost: keygate\r\n\r\n");
    await within(closed, 8_000, "the keep-alive connection to close after its answers");

    const second = received.indexOf("HTTP/1.1 ", 1);
    expect(received.startsWith("HTTP/1.1 200 ")).toBe(true);
    expect(received.slice(0, second)).toContain("chunk-19\n");
    expect(second).toBeGreaterThan(0);
    expect(received.slice(second)).toMatch(/^HTTP\/1\.1 503 /);
    expect(received.slice(second)).toContain('{"status":"draining"}');
    expect(await within(kg.exited, 8_000, "exit after drain")).toBe(0);
  });
});

describe("drain deadline and second signal", () => {
  test("a stream longer than KEYGATE_DRAIN_TIMEOUT is cut at the deadline and the process still exits 0", async () => {
    kg = await spawn(1);
    // 300 chunks 30 ms apart: about 9 s, far beyond the 1 s drain.
    const stream = await openStream(kg.urls.ingress, 300);
    await sigterm(kg);
    const result = await within(stream.rest(), 6_000, "the stream to be cut");
    expect(result.text.length).toBeLessThan(expected(300).length);
    expect(expected(300).startsWith(result.text)).toBe(true);
    expect(await within(kg.exited, 6_000, "exit after the drain deadline")).toBe(0);
  });

  test("a second SIGTERM during the drain exits at once with a non-zero code", async () => {
    kg = await spawn(30);
    const stream = await openStream(kg.urls.ingress, 300);
    await sigterm(kg);
    kg.child.kill("SIGTERM");
    // Well before both the 30 s drain deadline and the 9 s stream.
    const code = await within(kg.exited, 3_000, "exit after the second SIGTERM");
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect((await within(stream.rest(), 3_000, "the stream to end")).cut).toBe(true);
  });
});
