import { request } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type InProcessKeygate, startKeygate } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";

const secret = randomSecret();
let app: MockApp;
let kg: InProcessKeygate;
let token: string;

const policy = `
version: 1
auth:
  algorithms: [HS256]
  secret_env: KEYGATE_JWT_SECRET
  public: ["/public/*", "/docs"]
trust_proxies: [127.0.0.1/32, 10.0.0.0/8]
upstreams:
  app: \${APP_URL}
limits: []
`;

beforeAll(async () => {
  app = await startMockApp();
  kg = await startKeygate(policy, { KEYGATE_JWT_SECRET: secret, APP_URL: app.url });
  token = await mintToken({ sub: "alice", secret });
});
afterAll(async () => {
  await kg.stop();
  await app.close();
  // Every test in this file handled a JWT: none may reach a log line.
  expect(kg.logText()).not.toContain(token);
  expect(kg.logText()).not.toContain(secret);
});

const last = () => app.received[app.received.length - 1]!;

describe("ingress proxy", () => {
  test("forwards an authenticated request with the trusted user header and keeps Authorization", async () => {
    const res = await fetch(`${kg.urls.ingress}/api/items?page=2`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, path: "/api/items" });
    expect(last().url).toBe("/api/items?page=2");
    expect(last().headers["x-keygate-user"]).toBe("alice");
    expect(last().headers["authorization"]).toBe(`Bearer ${token}`);
    expect(last().headers["x-forwarded-proto"]).toBe("http");
    expect(last().headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  test("writes one access line per request: path without its query, a JWT in the path scrubbed", async () => {
    const res = await fetch(`${kg.urls.ingress}/api/echo/${token}?page=2&key=${token}`, {
      headers: { authorization: `Bearer ${token}`, "x-request-id": "access-line-1" },
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    // The line is written when the answer's socket write completes, just after the client has it.
    await expect.poll(() => kg.logLines().filter((l) => l["reqId"] === "access-line-1").length).toBe(1);
    const line = kg.logLines().find((l) => l["reqId"] === "access-line-1")!;
    expect(line).toEqual({
      level: "info",
      time: expect.any(String),
      pid: process.pid,
      hostname: expect.any(String),
      msg: "request",
      reqId: "access-line-1",
      listener: "ingress",
      method: "GET",
      path: "/api/echo/[REDACTED]",
      status: 200,
      ms: expect.any(Number),
      user: "alice",
    });
  });

  test("never forwards client-sent x-keygate-* headers (spoofed user)", async () => {
    await fetch(`${kg.urls.ingress}/public/page`, {
      headers: { "x-keygate-user": "admin", "X-Keygate-Anything": "x" },
    });
    expect(last().headers["x-keygate-user"]).toBeUndefined();
    expect(last().headers["x-keygate-anything"]).toBeUndefined();
    await fetch(`${kg.urls.ingress}/api/x`, {
      headers: { authorization: `Bearer ${token}`, "x-keygate-user": "admin" },
    });
    expect(last().headers["x-keygate-user"]).toBe("alice");
  });

  test("keeps a well-formed client request id, replaces a bad one, echoes it", async () => {
    const kept = await fetch(`${kg.urls.ingress}/public/a`, { headers: { "x-request-id": "abc.DEF:1-2_3" } });
    expect(kept.headers.get("x-request-id")).toBe("abc.DEF:1-2_3");
    expect(last().headers["x-request-id"]).toBe("abc.DEF:1-2_3");
    const replaced = await fetch(`${kg.urls.ingress}/public/a`, {
      headers: { "x-request-id": "bad id with spaces" },
    });
    const id = replaced.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(last().headers["x-request-id"]).toBe(id);
    const denied = await fetch(`${kg.urls.ingress}/api/x`);
    expect(denied.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("removes hop-by-hop headers and those named in Connection", async () => {
    await new Promise<void>((resolve, reject) => {
      const url = new URL(`${kg.urls.ingress}/public/hop`);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          headers: {
            connection: "keep-alive, x-secret-hop",
            "x-secret-hop": "1",
            "keep-alive": "timeout=5",
            te: "trailers",
            "x-kept": "yes",
          },
        },
        (res) => {
          res.resume();
          res.on("end", resolve);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(last().headers["x-secret-hop"]).toBeUndefined();
    expect(last().headers["keep-alive"]).toBeUndefined();
    expect(last().headers["te"]).toBeUndefined();
    expect(last().headers["x-kept"]).toBe("yes");
  });

  test("public paths pass without a token; an invalid token there is ignored; a valid one sets the user", async () => {
    expect((await fetch(`${kg.urls.ingress}/docs`)).status).toBe(200);
    expect(last().headers["x-keygate-user"]).toBeUndefined();
    const bad = await fetch(`${kg.urls.ingress}/public/x`, {
      headers: { authorization: "Bearer not-a-jwt" },
    });
    expect(bad.status).toBe(200);
    expect(last().headers["x-keygate-user"]).toBeUndefined();
    await fetch(`${kg.urls.ingress}/public/x`, { headers: { authorization: `Bearer ${token}` } });
    expect(last().headers["x-keygate-user"]).toBe("alice");
  });

  test("a path that only looks public after decoding needs a token", async () => {
    const res = await fetch(`${kg.urls.ingress}/public%2F..%2Fadmin`);
    expect(res.status).toBe(401);
  });

  test("CORS preflights pass without a token", async () => {
    const res = await fetch(`${kg.urls.ingress}/api/items`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(200);
    expect(last().method).toBe("OPTIONS");
  });

  test("a missing token is a 401 problem with WWW-Authenticate", async () => {
    const res = await fetch(`${kg.urls.ingress}/api/items`);
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("www-authenticate")).toBe(
      'Bearer error="invalid_token", error_description="token missing"',
    );
    expect(res.headers.get("x-keygate-error")).toBe("unauthorized");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body["type"]).toBe("urn:keygate:problem:unauthorized");
    expect(body["status"]).toBe(401);
  });

  test("x-forwarded-for is believed only from trusted proxies", async () => {
    // The test client (127.0.0.1) is trusted here, as is 10.0.0.0/8: the client is the rightmost untrusted hop.
    await fetch(`${kg.urls.ingress}/public/ip`, { headers: { "x-forwarded-for": "203.0.113.7, 10.1.2.3" } });
    expect(last().headers["x-forwarded-for"]).toBe("203.0.113.7, 10.1.2.3, 127.0.0.1");
  });

  test("streams a chunked answer: the first chunk arrives before the app has finished", async () => {
    const res = await fetch(`${kg.urls.ingress}/stream?chunks=5`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("chunk-0\n");
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe("chunk-1\nchunk-2\nchunk-3\nchunk-4\n");
  });

  test("HEAD is proxied once: no second write of the answer, no error, the connection kept", async () => {
    // @hono/node-server reports a failed second write with console.error and destroys the response.
    const errors = vi.spyOn(console, "error");
    const { hostname, port } = new URL(kg.urls.ingress);
    const socket = connect(Number(port), hostname);
    socket.on("error", () => {});
    let received = "";
    socket.setEncoding("latin1").on("data", (text: string) => {
      received += text;
    });
    const answers = () => received.split("HTTP/1.1 200 OK").length - 1;
    const head = `HEAD /api/items HTTP/1.1\r\nhost: keygate\r\nauthorization: Bearer ${token}\r\n\r\n`;
    socket.write(head);
    await expect.poll(answers).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Written twice, the first answer would fail and destroy the socket: no second answer on it.
    socket.write(head);
    await expect.poll(answers).toBe(2);
    expect(socket.destroyed).toBe(false);
    socket.destroy();
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });

  test("streams a request body to the app", async () => {
    const body = "x".repeat(256 * 1024);
    const res = await fetch(`${kg.urls.ingress}/api/upload`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
      body,
    });
    expect(res.status).toBe(200);
    expect(last().body.length).toBe(body.length);
  });

  test("/_keygate/healthz answers without auth; other /_keygate paths are 404 and never proxied", async () => {
    const before = app.received.length;
    const health = await fetch(`${kg.urls.ingress}/_keygate/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const unknown = await fetch(`${kg.urls.ingress}/_keygate/admin`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-keygate-error")).toBe("not-found");
    expect(app.received.length).toBe(before);
  });
});

describe("ingress upstream failures", () => {
  test("an app that refuses connections is a 503 problem", async () => {
    const down = await startMockApp();
    const url = down.url;
    await down.close();
    const gw = await startKeygate(policy, { KEYGATE_JWT_SECRET: secret, APP_URL: url });
    try {
      const res = await fetch(`${gw.urls.ingress}/public/x`);
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(((await res.json()) as { type: string }).type).toBe("urn:keygate:problem:upstream-unavailable");
    } finally {
      await gw.stop();
    }
  });

  test("a failure after the limits passed still carries the passed limit's RateLimit headers", async () => {
    const down = await startMockApp();
    const url = down.url;
    await down.close();
    const limited = policy.replace(
      "limits: []",
      "limits:\n  - { name: per-user, scope: app, per: user, rate: 5/1m }",
    );
    const gw = await startKeygate(limited, { KEYGATE_JWT_SECRET: secret, APP_URL: url });
    try {
      const res = await fetch(`${gw.urls.ingress}/api/x`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(503);
      expect(res.headers.get("ratelimit-policy")).toBe('"per-user";q=5;w=60');
      expect(res.headers.get("ratelimit")).toBe('"per-user";r=4;t=60');
    } finally {
      await gw.stop();
    }
  });
});
