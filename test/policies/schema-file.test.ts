import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { policyJsonSchemaText } from "../../policies/json-schema.ts";

describe("policies.schema.json", () => {
  it("is current: equal to a fresh generation from the zod schema (run `npm run schema`)", () => {
    const onDisk = readFileSync(join(import.meta.dirname, "..", "..", "policies.schema.json"), "utf8");
    expect(onDisk).toBe(policyJsonSchemaText());
  });

  it("rejects unknown top-level keys and requires version, auth and upstreams", () => {
    const schema = JSON.parse(policyJsonSchemaText()) as {
      additionalProperties: unknown;
      required: string[];
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(["version", "auth", "upstreams"]);
  });
});
