/**
 * Built-in provider settings. `openai`, `anthropic` and `google` need no
 * configuration; any other provider name needs at least `base_url` and speaks
 * the OpenAI dialect unless told otherwise.
 */
import type { AuthSlot, ProviderApi } from "./types.ts";

export interface ProviderDefaults {
  readonly baseUrl?: string;
  readonly auth: AuthSlot;
  readonly api: ProviderApi;
  readonly verifyPath: string;
  readonly keyPattern: string;
}

/** The providers that exist when the policy has no `providers` section. */
export const WELL_KNOWN_PROVIDERS: Readonly<Record<ProviderApi, ProviderDefaults>> = {
  openai: {
    baseUrl: "https://api.openai.com/v1",
    auth: "bearer",
    api: "openai",
    verifyPath: "/models",
    keyPattern: "^sk-[A-Za-z0-9_-]{20,}$",
  },
  anthropic: {
    baseUrl: "https://api.anthropic.com",
    auth: "x-api-key",
    api: "anthropic",
    verifyPath: "/v1/models",
    keyPattern: "^sk-ant-[A-Za-z0-9_-]{20,}$",
  },
  google: {
    baseUrl: "https://generativelanguage.googleapis.com",
    auth: "x-goog-api-key",
    api: "google",
    verifyPath: "/v1beta/models",
    keyPattern: "^AIza[0-9A-Za-z_-]{35}$",
  },
};

/** Defaults for a provider name that is not well known (a self-hosted or OpenAI-compatible endpoint). */
export const CUSTOM_PROVIDER_DEFAULTS: ProviderDefaults = {
  auth: "bearer",
  api: "openai",
  verifyPath: "/models",
  keyPattern: "^[\\x21-\\x7e]{8,256}$",
};

/** Defaults for `name`: the built-in set for a well-known provider, else the custom-provider set. */
export function providerDefaults(name: string): ProviderDefaults {
  return Object.hasOwn(WELL_KNOWN_PROVIDERS, name)
    ? WELL_KNOWN_PROVIDERS[name as ProviderApi]
    : CUSTOM_PROVIDER_DEFAULTS;
}

/** Provider names present in a (possibly invalid) raw policy: the listed ones, or the well-known three. */
export function providerNames(raw: unknown): string[] {
  const providers = isRecord(raw) ? raw["providers"] : undefined;
  if (providers === undefined || providers === null) return Object.keys(WELL_KNOWN_PROVIDERS);
  return isRecord(providers) ? Object.keys(providers) : [];
}

/** A plain mapping, as YAML produces. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
