/**
 * Exact percentiles from raw samples (HDR-style reporting, without HDR's
 * bucketing error): every latency is kept as a float of microseconds.
 */

/** Growable Float64Array of samples, so a run of 10⁵ requests does not churn the heap. */
export class Samples {
  #data = new Float64Array(4096);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(value: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }

  /** A sorted copy of the samples. */
  sorted(): Float64Array {
    return this.#data.slice(0, this.#length).sort();
  }

  toArray(): number[] {
    return Array.from(this.#data.subarray(0, this.#length));
  }
}

/**
 * Nearest-rank percentile of an ascending array: the smallest sample with at
 * least `p`% of the samples at or below it. NaN for no samples.
 */
export function percentile(sortedAsc: ArrayLike<number>, p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const n = sortedAsc.length;
  if (n === 0) return Number.NaN;
  return sortedAsc[Math.min(n, Math.ceil((p / 100) * n)) - 1]!;
}

/** Median of a list of numbers (mean of the middle two for an even count). NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Pools several runs' raw samples into one ascending Float64Array. */
export function pooled(runs: readonly (readonly number[])[]): Float64Array {
  let total = 0;
  for (const r of runs) total += r.length;
  const out = new Float64Array(total);
  let at = 0;
  for (const r of runs) {
    out.set(r, at);
    at += r.length;
  }
  return out.sort();
}
