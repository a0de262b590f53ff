/** A compiled limit as plain text fields: what `keygate check` prints and what a reload diff compares. */
import type { CompiledLimit, LimitOverride } from "./types.ts";

export interface LimitRow {
  readonly name: string;
  /** Empty for the base limit, else the tier whose override this row shows. */
  readonly tier: string;
  readonly scope: string;
  readonly per: string;
  readonly rate: string;
  readonly tokens: string;
  readonly concurrent: string;
  /** `POST /api/v1/login/*`; empty when the limit applies to every request of its scope. */
  readonly filter: string;
  readonly onStoreFailure: string;
  readonly shadow: string;
}

function filterText(limit: CompiledLimit): string {
  const { paths, methods } = limit;
  return [methods?.join(","), paths?.join(" ")].filter(Boolean).join(" ");
}

function tokensText(limit: CompiledLimit, o: LimitOverride = {}): string {
  const tokens = o.tokens ?? limit.tokens;
  return tokens ? `${tokens.text} (${limit.count.join("+")})` : "";
}

/** The base row, then one row per tier override with the effective (merged) values. */
export function limitRows(limit: CompiledLimit): LimitRow[] {
  const base: LimitRow = {
    name: limit.name,
    tier: "",
    scope: limit.scope,
    per: limit.per,
    rate: limit.rate?.text ?? "",
    tokens: tokensText(limit),
    concurrent: limit.concurrent === undefined ? "" : String(limit.concurrent),
    filter: filterText(limit),
    onStoreFailure: limit.onStoreFailure,
    shadow: limit.shadow ? "yes" : "no",
  };
  const rows = [base];
  for (const [tier, o] of limit.tiers)
    rows.push({
      ...base,
      tier,
      rate: o.rate?.text ?? base.rate,
      tokens: tokensText(limit, o),
      concurrent: o.concurrent === undefined ? base.concurrent : String(o.concurrent),
    });
  return rows;
}
