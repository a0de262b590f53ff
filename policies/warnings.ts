/**
 * Valid but suspicious settings. They are returned next to the policy (and
 * printed by `keygate check`), never refused: each has a legitimate use.
 */
import type { PolicyIssue } from "./issue.ts";
import type { PolicyFile } from "./schema.ts";

type Env = Readonly<Record<string, string | undefined>>;

const LOOPBACK = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/;

/** Every warning for a validated file, given the environment the gateway will run with. */
export function findWarnings(f: PolicyFile, env: Env): PolicyIssue[] {
  const out: PolicyIssue[] = [];
  const names = f.auth.secret_env === undefined ? [] : [f.auth.secret_env].flat();
  const listed = Array.isArray(f.auth.secret_env);
  names.forEach((name, i) => {
    if (!env[name])
      out.push({
        path: listed ? ["auth", "secret_env", i] : ["auth", "secret_env"],
        message: `${name} is not set in this environment, expected it to hold the JWT secret when keygate starts`,
      });
  });
  if (names.length > 0 && !f.auth.algorithms.some((a) => a.startsWith("HS")))
    out.push({
      path: ["auth", "secret_env"],
      message: "is set but no HS* algorithm is allowed, so it is unused",
    });
  f.trust_proxies.forEach((cidr, i) => {
    if (cidr.endsWith("/0"))
      out.push({
        path: ["trust_proxies", i],
        message:
          "trusts every address, so any client can forge x-forwarded-for; expected your proxies' CIDRs",
      });
  });
  for (const [name, p] of Object.entries(f.providers ?? {}))
    if (p?.base_url?.startsWith("http:") && !LOOPBACK.test(p.base_url))
      out.push({
        path: ["providers", name, "base_url"],
        message: "sends provider keys over plain http, expected https outside loopback",
      });
  if (Object.keys(f.tiers).length > 0 && f.auth.tier_claim === undefined)
    out.push({
      path: ["tiers"],
      message: "are defined but auth.tier_claim is not set, so no user ever gets a tier",
    });
  return out;
}
