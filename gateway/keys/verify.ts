import type { ProviderPolicy } from "../../policies/types.ts";
import { GatewayError } from "../errors.ts";
import { setProviderKey } from "../providers/credentials.ts";
import type { HeaderMap } from "../proxy/headers.ts";
import type { Runtime } from "../runtime.ts";

/**
 * Calls the provider's cheapest authenticated endpoint with the stored key
 * (SPEC §5): 2xx → valid, 401/403 → invalid, anything else → 502 (we cannot
 * tell, and must not claim the key is bad). Google answers a bad key with
 * 400 `API_KEY_INVALID` on its models list, so a Google 400 means invalid too.
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
  let status: number;
  try {
    status = await upstream.status(`${base.pathname.replace(/\/$/, "")}${provider.verifyPath}`, headers);
  } catch (err) {
    throw cannotVerify(provider.name, "could not be reached", err);
  }
  if (status >= 200 && status < 300) return { valid: true, status };
  if (status === 401 || status === 403 || (status === 400 && provider.api === "google"))
    return { valid: false, status };
  throw cannotVerify(provider.name, `answered ${status}`);
}

/** Any answer but 2xx / 401 / 403 says nothing about the key: 502, never `valid: false`. */
function cannotVerify(provider: string, what: string, cause?: unknown): GatewayError {
  return new GatewayError(
    502,
    "upstream-error",
    "Bad Gateway",
    `${provider} ${what} during the verification call, so the key could not be checked; retry later.`,
    cause === undefined ? {} : { cause },
  );
}
