// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about ${VAR} syntax.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePolicyText, formatWarning, loadPolicyFile } from "../../policies/load.ts";
import { BASE, compileErrors, compileOk, ENV } from "./helpers.ts";

const root = join(import.meta.dirname, "..", "..");

describe("${VAR} expansion", () => {
  const withApp = (app: string) => BASE.replace("http://127.0.0.1:8000", app);

  it("replaces ${VAR} with the variable's value", () => {
    const policy = compileOk(withApp("${APP_URL}"), { ...ENV, APP_URL: "http://app.internal:9000" });
    expect(policy.upstreams.app).toBe("http://app.internal:9000");
  });

  it("uses the default of ${VAR:-default} when the variable is unset or empty", () => {
    expect(compileOk(withApp("${APP_URL:-http://127.0.0.1:8001}")).upstreams.app).toBe(
      "http://127.0.0.1:8001",
    );
    const empty = compileOk(withApp("${APP_URL:-http://127.0.0.1:8002}"), { ...ENV, APP_URL: "" });
    expect(empty.upstreams.app).toBe("http://127.0.0.1:8002");
  });

  it("prefers the variable over the default", () => {
    const policy = compileOk(withApp("${APP_URL:-http://127.0.0.1:8001}"), {
      ...ENV,
      APP_URL: "https://a.example",
    });
    expect(policy.upstreams.app).toBe("https://a.example");
  });

  it("expands inside longer strings, several times, and in list items", () => {
    const text = `${withApp("http://${HOST}:${PORT:-8000}/base")}trust_proxies: ["\${PROXY}"]\n`;
    const policy = compileOk(text, { ...ENV, HOST: "app", PORT: "81", PROXY: "192.0.2.1" });
    expect(policy.upstreams.app).toBe("http://app:81/base");
    expect(policy.trustProxies).toEqual(["192.0.2.1/32"]);
  });

  it("writes a literal ${ for $${", () => {
    const text = `${BASE}providers:\n  openai:\n    guards:\n      deny_patterns: [{ name: tpl, regex: "$\${x}" }]\n`;
    const pattern = compileOk(text).providers.get("openai")?.guards.denyPatterns[0]?.regex;
    expect(pattern?.source).toBe("${x}");
  });

  it("names an unset variable and suggests a default", () => {
    expect(compileErrors(withApp("${NOPE}"))).toEqual([
      "test.yaml:6:8: upstreams.app: uses ${NOPE} but NOPE is not set, expected it in the environment or a default: ${NOPE:-value}",
    ]);
  });

  it("refuses a malformed reference", () => {
    expect(compileErrors(withApp("http://${bad-name}"))).toEqual([
      "test.yaml:6:8: upstreams.app: has a malformed ${...} reference, expected ${VAR} or ${VAR:-default} (or $${ for a literal ${)",
    ]);
  });
});

describe("warnings", () => {
  it("warns, without failing, when secret_env names an unset variable", () => {
    const result = compilePolicyText(BASE, "test.yaml", {});
    expect(result).toMatchObject({
      ok: true,
      warnings: [
        {
          position: "test.yaml:4:15",
          field: "auth.secret_env",
          message:
            "KEYGATE_JWT_SECRET is not set in this environment, expected it to hold the JWT secret when keygate starts",
        },
      ],
    });
    expect(result.ok && result.warnings.map(formatWarning)).toEqual([
      "test.yaml:4:15: auth.secret_env: KEYGATE_JWT_SECRET is not set in this environment, expected it to hold the JWT secret when keygate starts",
    ]);
  });

  it("warns about trusting every proxy, plain-http providers and tiers without a tier claim", () => {
    const text = `${BASE}trust_proxies: ["0.0.0.0/0"]
providers:
  local: { base_url: "http://llm.internal:8000/v1" }
limits:
  - { name: a, scope: app, per: user, rate: 1/1s }
tiers:
  pro: { a: 2/1s }
`;
    const result = compilePolicyText(text, "test.yaml", ENV);
    expect(result.ok && result.warnings.map(formatWarning)).toEqual([
      "test.yaml:7:17: trust_proxies[0]: trusts every address, so any client can forge x-forwarded-for; expected your proxies' CIDRs",
      "test.yaml:9:22: providers.local.base_url: sends provider keys over plain http, expected https outside loopback",
      "test.yaml:13:3: tiers: are defined but auth.tier_claim is not set, so no user ever gets a tier",
    ]);
  });
});

describe("hostile YAML", () => {
  it("refuses an alias bomb instead of expanding it", () => {
    let text = "version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (let i = 1; i < 8; i++) {
      const refs = Array(10)
        .fill(`*a${i - 1}`)
        .join(", ");
      text += `a${i}: &a${i} [${refs}]\n`;
    }
    expect(compileErrors(text)).toEqual([
      "test.yaml:1:1: (yaml): Excessive alias count indicates a resource exhaustion attack, expected fewer aliases",
    ]);
  });
});

describe("loadPolicyFile", () => {
  it("loads the shipped policies.yaml with no errors and no warnings when its secret is set", async () => {
    const file = join(root, "policies.yaml");
    const result = await loadPolicyFile(file, ENV);
    expect(result.ok && result.warnings).toEqual([]);
    if (!result.ok) return;
    expect(result.policy.file).toBe(file);
    expect(result.policy.upstreams.app).toBe("http://127.0.0.1:8000");
    expect(result.policy.limits.map((l) => l.name)).toEqual([
      "user-requests",
      "login-per-ip",
      "keys-per-user",
      "openai-per-user",
      "anthropic-per-user",
      "google-per-user",
      "llm-all-users",
    ]);
  });

  it("hashes the file's bytes: the first 12 hex of their sha256", async () => {
    const file = join(root, "policies.yaml");
    const result = await loadPolicyFile(file, ENV);
    const expected = createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 12);
    expect(result.ok && result.policy.hash).toBe(expected);
  });

  it("starts the shipped policies.yaml with the schema modeline", () => {
    const first = readFileSync(join(root, "policies.yaml"), "utf8").split("\n")[0];
    expect(first).toBe("# yaml-language-server: $schema=./policies.schema.json");
  });
});
