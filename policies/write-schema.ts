/**
 * `npm run schema`: regenerates `policies.schema.json` at the repository root
 * from the zod schema. The file is checked in; a test fails when it is stale.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { policyJsonSchemaText } from "./json-schema.ts";

const target = fileURLToPath(new URL("../policies.schema.json", import.meta.url));
writeFileSync(target, policyJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
