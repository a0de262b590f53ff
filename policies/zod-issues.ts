/**
 * Turns zod issues into policy issues: generic messages in the policy's
 * "what is wrong, what is expected" form, one issue per unknown key (pointing
 * at the key, listing the allowed ones), and union failures reduced to the
 * branch the value was meant for.
 */
import type { z } from "zod";
import type { PolicyIssue } from "./issue.ts";
import { show } from "./schema-fields.ts";

const DIG = "\u0000dig-into-union";

const NOUNS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
};

function kind(value: unknown): string {
  if (value === null) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return typeof value === "string" ? `the string ${show(value)}` : `the ${typeof value} ${String(value)}`;
}

/** Per-parse zod error map for every issue a field validator does not describe itself. */
export function genericMessage(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case "invalid_type": {
      const expected = NOUNS[iss.expected] ?? iss.expected;
      return iss.input === undefined
        ? `is required, expected ${expected}`
        : `is ${kind(iss.input)}, expected ${expected}`;
    }
    case "invalid_union": {
      const branches = iss.errors as z.core.$ZodIssue[][];
      const rootTypes = branches.map((b) => b.find((i) => i.code === "invalid_type" && i.path.length === 0));
      if (rootTypes.some((t) => t === undefined)) return DIG;
      const expected = rootTypes.map((t) => NOUNS[(t as { expected: string }).expected] ?? "?").join(" or ");
      return `is ${kind(iss.input)}, expected ${expected}`;
    }
    case "invalid_value":
      return `${show(iss.input)} is not allowed, expected one of: ${iss.values.map(String).join(", ")}`;
    case "too_small":
      return iss.origin === "array"
        ? `is empty, expected at least ${String(iss.minimum)} item`
        : `is too small, expected at least ${String(iss.minimum)}`;
    default:
      return undefined;
  }
}

/** Policy issues for zod's issues; `allowedKeys` names the keys valid at a path, for unknown-key messages. */
export function fromZod(
  issues: readonly z.core.$ZodIssue[],
  allowedKeys: (path: readonly PropertyKey[]) => string[],
  prefix: readonly PropertyKey[] = [],
): PolicyIssue[] {
  const out: PolicyIssue[] = [];
  for (const iss of issues) {
    const path = [...prefix, ...iss.path].map((p) => (typeof p === "number" ? p : String(p)));
    if (iss.code === "unrecognized_keys") {
      const allowed = allowedKeys(path).join(", ");
      for (const key of iss.keys)
        out.push({ path: [...path, key], at: "key", message: `unknown key, expected one of: ${allowed}` });
    } else if (iss.code === "invalid_union" && iss.message === DIG) {
      const branch = iss.errors.find((b) => !b.some((i) => i.code === "invalid_type" && i.path.length === 0));
      out.push(...fromZod(branch ?? [], (p) => allowedKeys(p), path));
    } else if (iss.code === "invalid_key") {
      out.push({ path, at: "key", message: iss.issues[0]?.message ?? "is not a valid key" });
    } else {
      const missing = iss.code === "invalid_type" && iss.message.startsWith("is required");
      out.push({ path, message: iss.message, ...(missing ? { at: "parent" as const } : {}) });
    }
  }
  return out;
}
