/**
 * How egress frames an answer it rewrites (scrubbing, usage): a sized answer
 * of at most 1 MiB that is not an event stream is read whole and sent with
 * its exact (scrubbed) `content-length`; event streams, unsized and larger
 * answers stream through chunked. An upstream that dies inside a held body
 * gets a clean 502 in the provider's shape, since nothing was sent yet. A
 * client that stops reading a stream stops the upstream too (backpressure).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv, type TestUser } from "../e2e-helpers/egress-env.ts";
import { fakeProviderKey } from "../e2e-helpers/fake-keys.ts";

/** The custom provider answers each request with whatever the test sets here (given the key it received). */
let answer: (res: ServerResponse, key: string) => void = (res) => res.end();
let custom: Server;
let env: EgressEnv;
let user: TestUser;
let key: string;

beforeAll(async () => {
  custom = createServer((req: IncomingMessage, res) => {
    req.resume();
    const sent = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
    req.on("end", () => answer(res, sent));
  });
  await new Promise<void>((resolve) => custom.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(custom.address() as AddressInfo).port}`;
  env = await startEgressEnv({ extra: `  custom: { base_url: "${url}" }` });
  user = await env.newUser();
  key = await env.storeKey(user, "custom", `custom-${fakeProviderKey("openai").slice(3)}`);
});
afterEach(() => env.assertLogsClean());
afterAll(async () => {
  await env.stop();
  await new Promise((resolve) => custom.close(resolve));
});

/** Node sends `content-length` only when told to once `writeHead` ran. */
const sized = (res: ServerResponse, status: number, body: string) =>
  res
    .writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
    .end(body);

const call = () =>
  request(`${env.egress}/custom/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.jwt}`, "content-type": "application/json" },
    body: '{"model":"m","messages":[]}',
  });

test("a sized JSON answer comes back whole, with the exact length of its scrubbed body", async () => {
  answer = (res, sent) => sized(res, 200, `{"echo":"${sent}"}`);
  const res = await call();
  const body = await res.body.text();

  expect(res.statusCode).toBe(200);
  expect(body).toBe('{"echo":"[REDACTED]"}');
  expect(res.headers["content-length"]).toBe(String(Buffer.byteLength(body)));
  expect(res.headers["transfer-encoding"]).toBeUndefined();
  expect(body).not.toContain(key);
});

test("an unsized answer streams through chunked, a key split across its writes scrubbed", async () => {
  answer = (res, sent) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write(`{"echo":"${sent.slice(0, 10)}`);
    setTimeout(() => res.end(`${sent.slice(10)}"}`), 20);
  };
  const res = await call();
  const body = await res.body.text();

  expect(res.statusCode).toBe(200);
  expect(body).toBe('{"echo":"[REDACTED]"}');
  expect(res.headers["transfer-encoding"]).toBe("chunked");
  expect(res.headers["content-length"]).toBeUndefined();
});

test("a sized event stream is not held: its first event arrives before the upstream ends", async () => {
  const first = "data: one\n\n";
  const rest = "data: two\n\n";
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  answer = (res) => {
    res.writeHead(200, { "content-type": "text/event-stream", "content-length": first.length + rest.length });
    res.write(first);
    void released.then(() => res.end(rest));
  };
  const res = await call();
  const chunks: string[] = [];
  for await (const chunk of res.body) {
    chunks.push(chunk.toString());
    // Only now may the upstream finish: a held body would never produce this first chunk.
    if (chunks.length === 1) release();
  }

  expect(res.headers["transfer-encoding"]).toBe("chunked");
  expect(chunks[0]).toBe(first);
  expect(chunks.join("")).toBe(first + rest);
});

test("a HEAD answer is not held: its content-length describes no body", async () => {
  answer = (res) => res.writeHead(200, { "content-type": "application/json", "content-length": 21 }).end();
  const res = await request(`${env.egress}/custom/v1/models`, {
    method: "HEAD",
    headers: { authorization: `Bearer ${user.jwt}` },
  });
  await res.body.text();

  expect(res.statusCode).toBe(200);
  // Scrubbing could change a body's length: the upstream's figure is not passed on, and no 0 is made up.
  expect(res.headers["content-length"]).toBeUndefined();
});

test("a sized answer over 1 MiB streams through chunked, unchanged", async () => {
  const big = `{"data":"${"x".repeat(1024 * 1024)}"}`;
  answer = (res) => sized(res, 200, big);
  const res = await call();
  const body = await res.body.text();

  expect(res.headers["transfer-encoding"]).toBe("chunked");
  expect(body).toBe(big);
});

test("a non-2xx sized answer is held whole too: shapes scrubbed, exact length", async () => {
  const foreign = fakeProviderKey("anthropic");
  env.secrets.push(foreign);
  answer = (res, sent) => sized(res, 401, `{"error":"bad ${sent} or ${foreign}"}`);
  const res = await call();
  const body = await res.body.text();

  expect(res.statusCode).toBe(401);
  expect(body).toBe('{"error":"bad [REDACTED] or [REDACTED]"}');
  expect(res.headers["content-length"]).toBe(String(Buffer.byteLength(body)));
});

test("an upstream that dies inside a held body → 502 upstream-error in the provider's shape", async () => {
  answer = (res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": 100 });
    res.write('{"partial":');
    setTimeout(() => res.socket?.destroy(), 20);
  };
  const res = await call();
  const body = (await res.body.json()) as { error: { type: string; code: string } };

  expect(res.statusCode).toBe(502);
  expect(res.headers["x-keygate-error"]).toBe("upstream-error");
  expect(body.error.type).toBe("api_error");
});

test("a client that stops reading pauses the upstream; the whole stream arrives once it reads again", async () => {
  const total = 64 * 1024 * 1024;
  const piece = Buffer.alloc(64 * 1024, "x");
  let written = 0;
  answer = (res) => {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    const more = () => {
      while (written < total) {
        written += piece.length;
        if (!res.write(piece)) return void res.once("drain", more);
      }
      res.end();
    };
    more();
  };
  const res = await call();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  // Socket buffers on the way hold some megabytes; without backpressure keygate would take it all at once.
  expect(written).toBeLessThan(total / 2);

  let received = 0;
  let onlyX = true;
  for await (const chunk of res.body) {
    received += chunk.length;
    if (onlyX && chunk.some((b: number) => b !== 0x78)) onlyX = false;
  }
  expect(received).toBe(total);
  expect(onlyX).toBe(true);
});
