import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createLogger, logListening } from "../../gateway/log/logger.ts";
import { captureLogs } from "../helpers/log-sink.ts";

// Obviously fake secrets, generated per run.
const openaiKey = `sk-test-${randomBytes(24).toString("hex")}`;
const googleKey = `AIza${randomBytes(24).toString("base64url")}`;
const jwt = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: "alice" })).toString("base64url")}.${randomBytes(32).toString("base64url")}`;
const bearer = `Bearer ${jwt}`;

function setup(level?: string) {
  const logs = captureLogs();
  const log = createLogger({ level, destination: logs.destination });
  return { logs, log };
}

describe("createLogger redaction", () => {
  it("redacts credential headers in every letter case and owner object", () => {
    const { logs, log } = setup();
    const opaque = randomBytes(16).toString("hex"); // no recognisable shape: only field redaction can catch it
    log.info(
      {
        req: { method: "GET", headers: { authorization: opaque, "x-api-key": opaque, host: "example.test" } },
        res: { headers: { "Set-Cookie": [opaque], "content-type": "text/plain" } },
        headers: {
          Authorization: opaque,
          AUTHORIZATION: opaque,
          "X-API-Key": opaque,
          "X-Goog-Api-Key": opaque,
        },
        request: { headers: { cookie: opaque, "proxy-authorization": opaque, "x-goog-api-key": opaque } },
      },
      "proxied",
    );
    expect(logs.text()).not.toContain(opaque);
    const [line] = logs.lines();
    expect(line).toMatchObject({
      msg: "proxied",
      level: "info",
      req: {
        method: "GET",
        headers: { authorization: "[REDACTED]", "x-api-key": "[REDACTED]", host: "example.test" },
      },
      res: { headers: { "Set-Cookie": "[REDACTED]", "content-type": "text/plain" } },
      headers: {
        Authorization: "[REDACTED]",
        AUTHORIZATION: "[REDACTED]",
        "X-API-Key": "[REDACTED]",
        "X-Goog-Api-Key": "[REDACTED]",
      },
      request: {
        headers: {
          cookie: "[REDACTED]",
          "proxy-authorization": "[REDACTED]",
          "x-goog-api-key": "[REDACTED]",
        },
      },
    });
  });

  it("redacts secret-named keys at the top level and one level down", () => {
    const { logs, log } = setup();
    const opaque = randomBytes(16).toString("hex");
    log.warn({
      api_key: opaque,
      token: opaque,
      vault: { apiKey: opaque, password: opaque, provider: "openai" },
    });
    expect(logs.text()).not.toContain(opaque);
    expect(logs.lines()[0]).toMatchObject({
      api_key: "[REDACTED]",
      token: "[REDACTED]",
      vault: { apiKey: "[REDACTED]", password: "[REDACTED]", provider: "openai" },
    });
  });
});

describe("createLogger value scrubbing", () => {
  it("scrubs a JWT in the message and keys in an error's message and stack", () => {
    const { logs, log } = setup();
    log.info(`user sent ${bearer} to the key API`);
    const err = new Error(`upstream refused key ${openaiKey} and ${googleKey}`);
    expect(err.stack).toContain(openaiKey);
    log.error({ err, note: `fallback ${googleKey}` }, "upstream failed");
    const text = logs.text();
    for (const secret of [jwt, openaiKey, googleKey]) expect(text).not.toContain(secret);
    const [first, second] = logs.lines();
    expect(first?.["msg"]).toBe("user sent Bearer [REDACTED] to the key API");
    expect(second?.["note"]).toBe("fallback [REDACTED]");
    const serialized = second?.["err"] as { message: string; stack: string };
    expect(serialized.message).toBe("upstream refused key [REDACTED] and [REDACTED]");
    expect(serialized.stack).toMatch(/^Error: upstream refused key \[REDACTED\] and \[REDACTED\]\n {4}at /);
  });

  it("serializes and scrubs an Error logged under `error`", () => {
    const { logs, log } = setup();
    log.warn({ error: new TypeError(`bad key ${openaiKey}`) }, "vault write failed");
    expect(logs.text()).not.toContain(openaiKey);
    expect(logs.lines()[0]?.["error"]).toMatchObject({ type: "TypeError", message: "bad key [REDACTED]" });
  });

  it("leaves ordinary lines unchanged", () => {
    const { logs, log } = setup();
    log.info({ user: "alice", path: "/api/v1/items", limit: "user-requests", status: 429 }, "rate limited");
    expect(logs.lines()[0]).toMatchObject({
      level: "info",
      msg: "rate limited",
      user: "alice",
      path: "/api/v1/items",
      limit: "user-requests",
      status: 429,
    });
    expect(logs.text()).not.toContain("[REDACTED]");
  });

  it("scrubs child loggers too", () => {
    const { logs, log } = setup();
    log.child({ component: "egress" }).info({ upstreamKey: openaiKey }, "sent");
    expect(logs.text()).not.toContain(openaiKey);
    expect(logs.lines()[0]).toMatchObject({ component: "egress", upstreamKey: "[REDACTED]" });
  });
});

describe("createLogger levels", () => {
  it("honours the level", () => {
    const { logs, log } = setup("warn");
    log.info("hidden");
    log.warn("shown");
    expect(logs.lines().map((l) => l["msg"])).toEqual(["shown"]);
  });

  it("refuses an unknown level at construction", () => {
    expect(() => createLogger({ level: "verbose" })).toThrow(
      'LOG_LEVEL: unknown level "verbose"; use one of trace, debug, info, warn, error, fatal, silent',
    );
  });

  it.each(["error", "silent", "info"])("logListening writes the listening line at level %s", (level) => {
    const { logs, log } = setup(level);
    log.info("hidden unless info");
    const urls = {
      ingress: "http://127.0.0.1:8080",
      egress: "http://127.0.0.1:8081",
      admin: "http://127.0.0.1:9090",
    };
    logListening(log, urls);
    const listening = logs.lines().filter((l) => l["msg"] === "listening");
    expect(listening).toHaveLength(1);
    expect(listening[0]).toMatchObject({ level: "info", ...urls });
  });
});

describe("stdout batching", () => {
  // A child process so the logger writes to a real stdout pipe, as in production.
  const script = (body: string) => `
    import { createLogger, logListening } from ${JSON.stringify(new URL("../../gateway/log/logger.ts", import.meta.url).href)};
    const log = createLogger();
    ${body}`;

  function run(body: string) {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script(body)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const seen: { at: number; line: string }[] = [];
    const started = performance.now();
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      for (const line of text.split("\n").filter(Boolean))
        seen.push({ at: performance.now() - started, line });
    });
    return { child, seen, exited: new Promise((resolve) => child.once("exit", resolve)) };
  }

  it("a lone line reaches stdout within the flush period while the process keeps running", async () => {
    const { child, seen, exited } = run(`log.info("lone line"); setTimeout(() => {}, 5000);`);
    await expect.poll(() => seen.length, { timeout: 2_000 }).toBe(1);
    expect(JSON.parse(seen[0]!.line)).toMatchObject({ level: "info", msg: "lone line" });
    expect(child.exitCode).toBeNull();
    child.kill();
    await exited;
  });

  it("lines still buffered when the process exits are written", async () => {
    const { seen, exited } = run(`
      logListening(log, { ingress: "i", egress: "e", admin: "a" });
      setTimeout(() => { for (let i = 0; i < 3; i++) log.info({ i }, "late"); process.exit(0); }, 1000);`);
    await expect.poll(() => seen.length, { timeout: 900 }).toBe(1);
    expect(JSON.parse(seen[0]!.line)).toMatchObject({ msg: "listening", ingress: "i" });
    await exited;
    expect(seen.map((s) => JSON.parse(s.line).msg)).toEqual(["listening", "late", "late", "late"]);
  });
});
