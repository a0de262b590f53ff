/**
 * Obviously fake provider keys, made at run time, shaped to pass each
 * provider's default `key_pattern` (never a real key in a tracked file).
 */
import { randomBytes } from "node:crypto";
import type { MockProvider } from "../mocks/providers.ts";

const GOOGLE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/**
 * A fresh fake key for `provider`: openai `sk-test-…`, anthropic `sk-ant-test-…`,
 * google `AIza` + 35 characters.
 * @example const key = fakeProviderKey("openai");
 */
export function fakeProviderKey(provider: MockProvider): string {
  if (provider === "openai") return `sk-test-${randomBytes(24).toString("hex")}`;
  if (provider === "anthropic") return `sk-ant-test-${randomBytes(24).toString("hex")}`;
  const bytes = randomBytes(35);
  let tail = "";
  for (const byte of bytes) tail += GOOGLE_ALPHABET[byte % GOOGLE_ALPHABET.length];
  return `AIza${tail}`;
}
