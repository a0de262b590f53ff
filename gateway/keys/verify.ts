import type { ProviderPolicy } from "../../policies/types.ts";
import { GatewayError } from "../errors.ts";
import { setProviderKey } from "../providers/credentials.ts";
import type { HeaderMap } from "../proxy/headers.ts";
import type { Runtime } from "../runtime.ts";

/**
 * Calls the provider's cheapest authenticated endpoint with the stored key
 * (SPEC §5): 2xx → valid, 401/403 → invalid, anything else → 502 (we cannot
 * tell, and must not claim the key is bad).
 */
export async function verifyStoredKey(
  runtime: Runtime,
  provider: ProviderPolicy,
  apiKey: string,
): Promise<{ valid: boolean; status: number }> {
  const upstream = runtime.providers.get(provider.name);
  if (!upstream)
    throw new GatewayError(404, "unknown-provider", "Not Found", `Unknown provider "${provider.name}".`);
  const headers: HeaderMap = { accept: "application/json", "accept-encoding": "identity" };
  if (provider.api === "anthropic") headers["anthropic-version"] = "2023-06-01";
  setProviderKey(headers, provider.auth, apiKey);
  const base = new URL(provider.baseUrl);
  const status = await upstream.status(`${base.pathname.replace(/\/$/, "")}${provider.verifyPath}`, headers);
  if (status >= 200 && status < 300) return { valid: true, status };
  if (status === 401 || status === 403) return { valid: false, status };
  throw new GatewayError(
    502,
    "upstream-error",
    "Bad Gateway",
    `${provider.name} answered ${status} to the verification call, so the key could not be checked; retry later.`,
  );
}
