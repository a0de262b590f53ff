/**
 * The policy file's small languages: durations (`30s`), rates (`60/1m`) and
 * sizes (`4MiB`). The patterns are exported so the zod schema (and through it
 * the JSON Schema) uses exactly what the parsers accept.
 */
import type { Rate } from "./types.ts";

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type DurationUnit = keyof typeof UNIT_MS;

/** Integer + unit, e.g. `500ms`, `5s`, `10m`, `1h`, `7d`. */
export const DURATION_RE = /^(0|[1-9][0-9]{0,11})(ms|s|m|h|d)$/;
/** `N/DURATION` with N ≥ 1 and a window ≥ 1 unit; the count may be left out: `60/m` = `60/1m`. */
export const RATE_RE = /^([1-9][0-9]{0,14})\/([1-9][0-9]{0,11})?(ms|s|m|h|d)$/;
/** Bytes (`1048576`) or a number with a decimal or binary unit (`1MB`, `512KiB`, `4MiB`). */
export const SIZE_RE = /^([1-9][0-9]{0,11})(B|kB|KB|MB|GB|KiB|MiB|GiB)?$/;

const SIZE_UNIT = {
  B: 1,
  kB: 1_000,
  KB: 1_000,
  MB: 1_000_000,
  GB: 1_000_000_000,
  KiB: 1_024,
  MiB: 1_048_576,
  GiB: 1_073_741_824,
} as const;
type SizeUnit = keyof typeof SIZE_UNIT;

/** Milliseconds of a duration that matched {@link DURATION_RE}. Example: `parseDuration("5s") === 5000`. */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2] as DurationUnit];
}

/** A rate that matched {@link RATE_RE}. Example: `parseRate("60/m")` → `{ quota: 60, windowMs: 60000, text: "60/m" }`. */
export function parseRate(text: string): Rate {
  const m = RATE_RE.exec(text);
  if (!m) throw new Error(`not a rate: ${text}`);
  const count = m[2] === undefined ? 1 : Number(m[2]);
  return { quota: Number(m[1]), windowMs: count * UNIT_MS[m[3] as DurationUnit], text };
}

/** Bytes of a size that matched {@link SIZE_RE}, or a plain byte count. Example: `parseSize("4MiB") === 4194304`. */
export function parseSize(value: string | number): number {
  if (typeof value === "number") return value;
  const m = SIZE_RE.exec(value);
  if (!m) throw new Error(`not a size: ${value}`);
  return Number(m[1]) * SIZE_UNIT[(m[2] ?? "B") as SizeUnit];
}
