/** Obviously fake API keys and master keys, made at run time (never in a tracked file). */
import { randomBytes } from "node:crypto";

export function fakeApiKey(prefix = "sk-test-"): string {
  return prefix + randomBytes(24).toString("hex");
}

export function fakeMasterKey(id: string): string {
  return `${id}:${randomBytes(32).toString("base64")}`;
}
