import { compilePolicyText } from "../../policies/load.ts";
import type { CompiledPolicy } from "../../policies/types.ts";

/** A minimal valid policy head; tests append sections to it. */
export const BASE = `version: 1
auth:
  algorithms: [HS256]
  secret_env: KEYGATE_JWT_SECRET
upstreams:
  app: http://127.0.0.1:8000
`;

export const ENV = { KEYGATE_JWT_SECRET: "test-secret" };

/** Compiles `text` and fails the test with every error when it is invalid. */
export function compileOk(text: string, env: Record<string, string> = ENV): CompiledPolicy {
  const result = compilePolicyText(text, "test.yaml", env);
  if (!result.ok) throw new Error(`expected a valid policy:\n${result.errors.join("\n")}`);
  return result.policy;
}

/** The errors of an invalid policy text. */
export function compileErrors(text: string, env: Record<string, string> = ENV): string[] {
  const result = compilePolicyText(text, "test.yaml", env);
  if (result.ok) throw new Error("expected the policy to be invalid");
  return result.errors;
}
