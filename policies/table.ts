/** The effective limits as an aligned text table, for `keygate check`. */
import { type LimitRow, limitRows } from "./describe.ts";
import type { CompiledPolicy } from "./types.ts";

const COLUMNS: readonly (readonly [keyof LimitRow, string])[] = [
  ["name", "NAME"],
  ["tier", "TIER"],
  ["scope", "SCOPE"],
  ["per", "PER"],
  ["rate", "RATE"],
  ["tokens", "TOKENS"],
  ["concurrent", "CONCURRENT"],
  ["filter", "MATCHES"],
  ["onStoreFailure", "ON_STORE_FAILURE"],
  ["shadow", "SHADOW"],
];

/**
 * One row per limit and per tier override, columns padded to align; `-` marks
 * an unset value. Example: `process.stdout.write(formatLimitsTable(policy) + "\n")`.
 */
export function formatLimitsTable(policy: CompiledPolicy): string {
  const rows = policy.limits.flatMap(limitRows);
  if (rows.length === 0) return "no limits defined";
  const cells = [
    COLUMNS.map(([, title]) => title),
    ...rows.map((row) => COLUMNS.map(([key]) => row[key] || (key === "filter" ? "*" : "-"))),
  ];
  const widths = COLUMNS.map((_, c) => Math.max(...cells.map((line) => (line[c] ?? "").length)));
  return cells
    .map((line) =>
      line
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
