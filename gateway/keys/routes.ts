import { type Context, Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { ProviderPolicy } from "../../policies/types.ts";
import type { Identity } from "../auth/verifier.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayEnv } from "../http/context.ts";
import { readBody } from "../http/read-body.ts";
import { authenticate } from "../ingress/authenticate.ts";
import { enforceLimits } from "../ingress/enforce-limits.ts";
import type { QuotaService } from "../limits/quota-service.ts";
import type { Vault } from "../vault/vault.ts";
import { usageReport } from "./usage.ts";
import { verifyStoredKey } from "./verify.ts";

/** Mounted under the ingress app, whose request scope provides the runtime, path and client address. */
export interface KeygateRoutesDeps {
  readonly quotas: QuotaService;
  readonly vault: Vault;
}

const MAX_KEY_BODY = 8 * 1024;
const MAX_KEY_LENGTH = 256;

const noKey = (provider: string) =>
  new GatewayError(
    404,
    "not-found",
    "Not Found",
    `No ${provider} key is stored for you; add one with PUT /_keygate/keys/${provider}.`,
  );

/**
 * The user-facing endpoints under `/_keygate` (SPEC §5 key API, and the
 * usage report): JWT required, a user reaches only their own keys (the user
 * comes from the token, never from the URL), `keys` scope limits apply, and
 * browsers on `cors.origins` may call them.
 */
export function createKeygateRoutes(deps: KeygateRoutesDeps): Hono<GatewayEnv> {
  const { quotas, vault } = deps;
  const routes = new Hono<GatewayEnv>();

  const provider = (c: Context<GatewayEnv>, name: string): ProviderPolicy => {
    const found = c.get("runtime").policy.providers.get(name);
    if (!found)
      throw new GatewayError(
        404,
        "unknown-provider",
        "Not Found",
        `Unknown provider "${name}"; the providers are listed in policies.yaml.`,
      );
    return found;
  };
  // The auth stage ran on every route here, so the identity is set.
  const user = (c: Context<GatewayEnv>) => (c.get("identity") as Identity).user;

  const guard: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    c.set("route", c.req.path.startsWith("/_keygate/usage") ? "usage" : "keys");
    const limits = c.get("runtime").policy.limitsFor("keys", c.req.method, c.get("path").path);
    const decision = await enforceLimits(c, quotas, limits);
    await next();
    if (decision) for (const [name, value] of Object.entries(decision.headers)) c.header(name, value);
  };
  const browser = cors({
    origin: (origin, c) => (c.get("runtime").policy.corsOrigins.has(origin) ? origin : null),
    allowMethods: ["GET", "PUT", "POST", "DELETE"],
    allowHeaders: ["authorization", "content-type"],
    exposeHeaders: ["ratelimit", "ratelimit-policy", "retry-after", "x-request-id"],
    maxAge: 600,
  });
  for (const path of ["/keys", "/keys/*", "/usage"]) {
    routes.use(
      path,
      browser,
      authenticate(() => false),
      guard,
    );
  }

  routes.get("/keys", async (c) => c.json({ keys: await vault.list(user(c)) }));
  routes.get("/keys/:provider", async (c) => {
    const name = provider(c, c.req.param("provider")).name;
    const info = await vault.info(user(c), name);
    if (!info) throw noKey(name);
    return c.json(info);
  });
  routes.put("/keys/:provider", async (c) => {
    const target = provider(c, c.req.param("provider"));
    const apiKey = parseKeyBody(await readBody(c.env.incoming, MAX_KEY_BODY));
    if (apiKey.length > MAX_KEY_LENGTH || !target.keyPattern.test(apiKey)) {
      throw new GatewayError(
        422,
        "invalid-key",
        "Unprocessable Content",
        `This does not look like an API key for ${target.name} (expected pattern ${target.keyPattern.source}, at most ${MAX_KEY_LENGTH} characters); copy the key again from the provider's console.`,
      );
    }
    return c.json(await vault.put(user(c), target.name, apiKey));
  });
  routes.delete("/keys/:provider", async (c) => {
    const name = provider(c, c.req.param("provider")).name;
    if (!(await vault.remove(user(c), name))) throw noKey(name);
    return c.body(null, 204);
  });
  routes.post("/keys/:provider/verify", async (c) => {
    const target = provider(c, c.req.param("provider"));
    const apiKey = await vault.reveal(user(c), target.name);
    if (apiKey === undefined) throw noKey(target.name);
    return c.json(await verifyStoredKey(c.get("runtime"), target, apiKey));
  });
  routes.get("/usage", async (c) =>
    c.json(await usageReport(c.get("runtime").policy, quotas, c.get("identity")!, c.get("clientIp"))),
  );
  return routes;
}

function parseKeyBody(body: Buffer): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    parsed = undefined;
  }
  const apiKey = (parsed as { api_key?: unknown } | undefined)?.api_key;
  if (typeof apiKey !== "string" || parsed === null || typeof parsed !== "object") {
    throw new GatewayError(
      400,
      "bad-request",
      "Bad Request",
      'Send a JSON body {"api_key": "<your provider key>"}.',
    );
  }
  return apiKey.trim();
}
