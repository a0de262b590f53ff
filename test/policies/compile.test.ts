import { describe, expect, it } from "vitest";
import { BASE, compileOk } from "./helpers.ts";

const LIMITS = `${BASE}limits:
  - { name: app-all, scope: app, per: user, rate: 60/1m }
  - { name: llm-first, scope: llm, per: global, rate: 1000/1m }
  - { name: login, scope: app, per: ip, rate: 10/1m, paths: ["/api/v1/login/*"], methods: [post] }
  - { name: openai-user, scope: openai, per: user, tokens: 1000/1m, concurrent: 2 }
  - { name: chat-only, scope: openai, per: user, rate: 5/1s, paths: ["/chat/**"] }
  - { name: keys, scope: keys, per: user, rate: 30/1m }
  - { name: llm-last, scope: llm, per: user, rate: 100/1m, shadow: true, on_store_failure: deny }
`;

const names = (limits: readonly { name: string }[]) => limits.map((l) => l.name);

describe("limitsFor", () => {
  const policy = compileOk(LIMITS);

  it("gives a provider its own limits and every llm limit, in file order", () => {
    expect(names(policy.limitsFor("openai", "POST", "/chat/completions"))).toEqual([
      "llm-first",
      "openai-user",
      "chat-only",
      "llm-last",
    ]);
    expect(names(policy.limitsFor("anthropic", "POST", "/v1/messages"))).toEqual(["llm-first", "llm-last"]);
  });

  it("applies path filters on provider scopes to the path after /{provider}", () => {
    expect(names(policy.limitsFor("openai", "POST", "/embeddings"))).toEqual([
      "llm-first",
      "openai-user",
      "llm-last",
    ]);
  });

  it("filters app limits by path and upper-cased method", () => {
    expect(names(policy.limitsFor("app", "POST", "/api/v1/login/password"))).toEqual(["app-all", "login"]);
    expect(names(policy.limitsFor("app", "GET", "/api/v1/login/password"))).toEqual(["app-all"]);
    expect(names(policy.limitsFor("app", "POST", "/api/v1/users"))).toEqual(["app-all"]);
  });

  it("keeps keys limits apart and has nothing for an unknown scope", () => {
    expect(names(policy.limitsFor("keys", "GET", "/_keygate/keys"))).toEqual(["keys"]);
    expect(policy.limitsFor("mistral", "GET", "/")).toEqual([]);
  });

  it("returns the same list object when no limit of the scope filters", () => {
    expect(policy.limitsFor("anthropic", "POST", "/a")).toBe(policy.limitsFor("anthropic", "GET", "/b"));
  });

  it("compiles each limit's fields with defaults", () => {
    const [appAll, , , openaiUser, , , llmLast] = policy.limits;
    expect(appAll).toMatchObject({
      scope: "app",
      per: "user",
      rate: { quota: 60, windowMs: 60_000, text: "60/1m" },
      count: ["input", "output"],
      onStoreFailure: "local",
      shadow: false,
    });
    expect(openaiUser).toMatchObject({ tokens: { quota: 1000, windowMs: 60_000 }, concurrent: 2 });
    expect(openaiUser?.rate).toBeUndefined();
    expect(llmLast).toMatchObject({ shadow: true, onStoreFailure: "deny" });
  });
});

describe("tiers", () => {
  const policy = compileOk(`${LIMITS}tiers:
  pro:
    app-all: 600/1m
    openai-user: { tokens: 50000/1m, concurrent: 8 }
  free:
    app-all: { rate: 10/1m }
`);

  it("attaches each tier's overrides to its limit, parsed", () => {
    const [appAll, , , openaiUser] = policy.limits;
    expect(appAll?.tiers).toEqual(
      new Map([
        ["pro", { rate: { quota: 600, windowMs: 60_000, text: "600/1m" } }],
        ["free", { rate: { quota: 10, windowMs: 60_000, text: "10/1m" } }],
      ]),
    );
    expect(openaiUser?.tiers).toEqual(
      new Map([["pro", { tokens: { quota: 50_000, windowMs: 60_000, text: "50000/1m" }, concurrent: 8 }]]),
    );
    expect(policy.limits[1]?.tiers.size).toBe(0);
  });
});

describe("auth", () => {
  it("compiles public globs, secret lists and the clock tolerance", () => {
    const policy = compileOk(`version: 1
auth:
  algorithms: [HS256, RS256]
  secret_env: [JWT_NEW, JWT_OLD]
  jwks_url: http://127.0.0.1:9999/jwks.json
  issuer: ohmycoins
  clock_tolerance: 1500ms
  tier_claim: plan
  public: ["/docs", "/api/v1/login/*"]
upstreams: { app: "http://127.0.0.1:8000" }
`);
    const { isPublic, ...auth } = policy.auth;
    expect(auth).toEqual({
      algorithms: ["HS256", "RS256"],
      secretEnv: ["JWT_NEW", "JWT_OLD"],
      jwksUrl: "http://127.0.0.1:9999/jwks.json",
      issuer: "ohmycoins",
      clockToleranceS: 1.5,
      userClaim: "sub",
      tierClaim: "plan",
    });
    expect([isPublic("/docs"), isPublic("/api/v1/login/x"), isPublic("/api/v1/users")]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it("makes nothing public without public globs", () => {
    expect(compileOk(BASE).auth.isPublic("/")).toBe(false);
  });
});

describe("trust_proxies", () => {
  it("keeps CIDRs and turns single addresses into /32 or /128", () => {
    const policy = compileOk(`${BASE}trust_proxies: [10.0.0.0/8, 192.0.2.7, "2001:db8::1", "fd00::/8"]\n`);
    expect(policy.trustProxies).toEqual(["10.0.0.0/8", "192.0.2.7/32", "2001:db8::1/128", "fd00::/8"]);
  });
});
