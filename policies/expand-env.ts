/**
 * `${VAR}` and `${VAR:-default}` expansion in every string value of a parsed
 * YAML document, before validation. `$${` writes a literal `${`. Keys are not
 * expanded: they are structure, not configuration values.
 */
import { isMap, isScalar, isSeq, type Node } from "yaml";
import type { PolicyIssue } from "./issue.ts";

type Env = Readonly<Record<string, string | undefined>>;

// `$${` escape | `${NAME}` | `${NAME:-default}` | any other `${` (an error).
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{/g;

/** Expands in place; returns one issue per unset variable or malformed reference. */
export function expandEnv(root: Node | null, env: Env): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  walk(root, [], (scalar, path) => {
    if (typeof scalar.value !== "string" || !scalar.value.includes("${")) return;
    scalar.value = expandString(scalar.value, env, (message) => issues.push({ path, message }));
  });
  return issues;
}

function expandString(text: string, env: Env, fail: (message: string) => void): string {
  return text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === "$${") return "${";
    if (name === undefined) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the message shows the syntax itself.
      fail("has a malformed ${...} reference, expected ${VAR} or ${VAR:-default} (or $${ for a literal ${)");
      return match;
    }
    const value = env[name];
    if (fallback !== undefined) return value === undefined || value === "" ? fallback : value;
    if (value === undefined) {
      fail(
        `uses \${${name}} but ${name} is not set, expected it in the environment or a default: \${${name}:-value}`,
      );
      return "";
    }
    return value;
  });
}

function walk(
  node: unknown,
  path: (string | number)[],
  visit: (scalar: { value: unknown }, path: (string | number)[]) => void,
): void {
  if (isScalar(node)) visit(node, path);
  else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) walk(item, [...path, i], visit);
  } else if (isMap(node))
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      walk(pair.value, [...path, String(key)], visit);
    }
}
