import { describe, expect, it } from "vitest";
import { diffPolicies } from "../../policies/diff.ts";
import { formatLimitsTable } from "../../policies/table.ts";
import { BASE, compileOk } from "./helpers.ts";

describe("formatLimitsTable", () => {
  it("prints one aligned row per limit and per tier override, with effective values", () => {
    const policy = compileOk(`${BASE}limits:
  - { name: user-requests, scope: app, per: user, rate: 60/1m }
  - { name: login-per-ip, scope: app, per: ip, rate: 10/1m, paths: ["/api/v1/login/*"], methods: [POST] }
  - { name: openai-per-user, scope: openai, per: user, rate: 20/1m, tokens: 200000/1m, concurrent: 4 }
  - { name: llm-all, scope: llm, per: global, rate: 3000/1m, on_store_failure: allow, shadow: true }
tiers:
  pro: { user-requests: 600/1m, openai-per-user: { tokens: 1000000/1m } }
`);
    expect(formatLimitsTable(policy).split("\n")).toEqual([
      "NAME             TIER  SCOPE   PER     RATE     TOKENS                     CONCURRENT  MATCHES               ON_STORE_FAILURE  SHADOW",
      "user-requests    -     app     user    60/1m    -                          -           *                     local             no",
      "user-requests    pro   app     user    600/1m   -                          -           *                     local             no",
      "login-per-ip     -     app     ip      10/1m    -                          -           POST /api/v1/login/*  local             no",
      "openai-per-user  -     openai  user    20/1m    200000/1m (input+output)   4           *                     local             no",
      "openai-per-user  pro   openai  user    20/1m    1000000/1m (input+output)  4           *                     local             no",
      "llm-all          -     llm     global  3000/1m  -                          -           *                     allow             yes",
    ]);
  });

  it("says so when there are no limits", () => {
    expect(formatLimitsTable(compileOk(BASE))).toBe("no limits defined");
  });
});

describe("diffPolicies", () => {
  const before = compileOk(`${BASE}limits:
  - { name: kept, scope: app, per: user, rate: 60/1m }
  - { name: retuned, scope: app, per: user, rate: 60/1m }
  - { name: dropped, scope: app, per: ip, rate: 10/1m }
  - { name: refiltered, scope: app, per: ip, rate: 10/1m, paths: ["/a"] }
  - { name: tiered, scope: app, per: user, rate: 5/1s }
`);

  it("lists added, removed and changed limits by name", () => {
    const after = compileOk(`${BASE}limits:
  - { name: fresh, scope: keys, per: user, rate: 1/1s }
  - { name: kept, scope: app, per: user, rate: 60/1m }
  - { name: retuned, scope: app, per: user, rate: 120/1m }
  - { name: refiltered, scope: app, per: ip, rate: 10/1m, paths: ["/b"] }
  - { name: tiered, scope: app, per: user, rate: 5/1s }
tiers:
  pro: { tiered: 50/1s }
`);
    expect(diffPolicies(before, after)).toEqual({
      added: ["fresh"],
      removed: ["dropped"],
      changed: ["retuned", "refiltered", "tiered"],
    });
  });

  it("is empty for an identical policy", () => {
    expect(diffPolicies(before, before)).toEqual({ added: [], removed: [], changed: [] });
  });

  it("notices shadow and on_store_failure changes", () => {
    const after = compileOk(`${BASE}limits:
  - { name: kept, scope: app, per: user, rate: 60/1m, shadow: true }
  - { name: retuned, scope: app, per: user, rate: 60/1m, on_store_failure: deny }
  - { name: dropped, scope: app, per: ip, rate: 10/1m }
  - { name: refiltered, scope: app, per: ip, rate: 10/1m, paths: ["/a"] }
  - { name: tiered, scope: app, per: user, rate: 5/1s }
`);
    expect(diffPolicies(before, after).changed).toEqual(["kept", "retuned"]);
  });
});
