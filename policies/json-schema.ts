/** The JSON Schema of `policies.yaml`, generated from the zod schema, for editors (yaml-language-server). */
import { z } from "zod";
import { policySchema } from "./schema.ts";

/**
 * `policies.schema.json` as it must be on disk: the input side (defaults
 * optional), draft-07 for the widest editor support, ending with a newline.
 * Cross-field rules (scopes, tiers, algorithm families) are not expressible
 * here; `keygate check` reports them.
 */
export function policyJsonSchemaText(): string {
  const schema = z.toJSONSchema(policySchema, { io: "input", target: "draft-07", unrepresentable: "any" });
  const described = {
    ...schema,
    title: "keygate policies.yaml",
    description:
      "Quotas, JWT checks and LLM provider settings for keygate. Validate fully with `keygate check`.",
  };
  return `${formatJson(described, "", 0)}\n`;
}

const LINE_WIDTH = 110;

/**
 * JSON laid out as the repository's formatter (biome) lays it out, so
 * `biome check` passes on the generated file: objects one key per line,
 * arrays of scalars on one line when they fit, else one item per line.
 */
function formatJson(value: unknown, indent: string, usedWidth: number): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const flat = `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
    const scalars = value.every((v) => typeof v !== "object" || v === null);
    // usedWidth covers the indent and `"key": `; the +1 is a possible trailing comma.
    if (scalars && usedWidth + flat.length + 1 <= LINE_WIDTH) return flat;
    return `[\n${value.map((v) => inner + formatJson(v, inner, inner.length)).join(",\n")}\n${indent}]`;
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    const lines = entries.map(([k, v]) => {
      const head = `${inner}${JSON.stringify(k)}: `;
      return head + formatJson(v, inner, head.length);
    });
    return `{\n${lines.join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}
