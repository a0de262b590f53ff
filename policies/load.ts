/**
 * Reads, expands, validates and compiles a policy file. Every problem is
 * reported at once as `FILE:LINE:COL: path.to.field: what is wrong, what is
 * expected`; nothing is compiled unless the whole file is valid.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { compilePolicy } from "./compile.ts";
import { expandEnv } from "./expand-env.ts";
import type { PolicyIssue } from "./issue.ts";
import { formatIssue, formatPath, locate } from "./locate.ts";
import { policySchema } from "./schema.ts";
import { keysAt } from "./schema-keys.ts";
import { checkSemantics } from "./semantics.ts";
import type { CompiledPolicy } from "./types.ts";
import { findWarnings } from "./warnings.ts";
import { fromZod, genericMessage } from "./zod-issues.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** A valid but suspicious setting, located in the file. */
export interface PolicyWarning {
  /** `FILE:LINE:COL` of the value. */
  readonly position: string;
  /** The field's path, e.g. `auth.secret_env`. */
  readonly field: string;
  readonly message: string;
}

export type LoadResult =
  | { ok: true; policy: CompiledPolicy; warnings: PolicyWarning[] }
  | { ok: false; errors: string[] };

/** `FILE:LINE:COL: field: message`, the same shape as every policy error. */
export function formatWarning(warning: PolicyWarning): string {
  return `${warning.position}: ${warning.field}: ${warning.message}`;
}

/**
 * Loads `file`. A file that cannot be read gives one `FILE:1:1: (file): cannot read: …` error.
 * Example: `const r = await loadPolicyFile("policies.yaml"); if (!r.ok) console.error(r.errors.join("\n"));`
 */
export async function loadPolicyFile(file: string, env: Env = process.env): Promise<LoadResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    // "ENOENT: no such file or directory, open '…'": the path is already the message's prefix.
    const reason = (err as Error).message.replace(/, \w+ '.*'$/, "");
    return {
      ok: false,
      errors: [formatIssue(file, { line: 1, col: 1 }, "(file)", `cannot read: ${reason}`)],
    };
  }
  return compileBytes(bytes.toString("utf8"), bytes, file, env);
}

/**
 * Compiles policy source `text`; `file` names it in messages and in `policy.file`.
 * Example: `compilePolicyText(readFileSync(f, "utf8"), f, process.env)`.
 */
export function compilePolicyText(text: string, file: string, env: Env = process.env): LoadResult {
  return compileBytes(text, Buffer.from(text, "utf8"), file, env);
}

function compileBytes(text: string, bytes: Buffer, file: string, env: Env): LoadResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
        const what = (e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
        return formatIssue(file, pos, "(yaml)", `${what}, expected valid YAML`);
      }),
    };
  const located = (issues: PolicyIssue[]): PolicyWarning[] => {
    const all = issues.map((issue) => ({ issue, pos: locate(doc, lines, issue) }));
    all.sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
    const seen = new Set<string>();
    return all
      .map(({ issue, pos }) => ({
        position: `${file}:${pos.line}:${pos.col}`,
        field: formatPath(issue.path),
        message: issue.message,
      }))
      .filter((w) => !seen.has(formatWarning(w)) && seen.add(formatWarning(w)));
  };
  const render = (issues: PolicyIssue[]) => located(issues).map(formatWarning);
  const issues = expandEnv(doc.contents, env);
  // A value whose variable is unset is reported once, for the variable, not again for its shape.
  const unexpanded = new Set(issues.map((i) => formatPath(i.path)));
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Only an alias bomb gets here: the document already parsed without errors.
    return {
      ok: false,
      errors: [
        formatIssue(file, { line: 1, col: 1 }, "(yaml)", `${(err as Error).message}, expected fewer aliases`),
      ],
    };
  }
  const parsed = policySchema.safeParse(raw, { error: genericMessage });
  const found = parsed.success ? [] : fromZod(parsed.error.issues, (path) => keysAt(policySchema, path));
  issues.push(...[...found, ...checkSemantics(raw)].filter((i) => !unexpanded.has(formatPath(i.path))));
  if (!parsed.success || issues.length > 0) return { ok: false, errors: render(issues) };
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 12);
  const policy = compilePolicy(parsed.data, resolve(file), hash);
  return { ok: true, policy, warnings: located(findWarnings(parsed.data, env)) };
}
