import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createKeyScrubber, filterWhole } from "../../gateway/scrub/stream.ts";

const R = "[REDACTED]";
const fakeKey = () => `sk-test-${randomBytes(24).toString("hex")}`;
const reference = (input: string, secret: string) => input.replaceAll(secret, R);

/** Pushes the chunks, flushes, and checks after every push that fewer than secret.length bytes are held. */
function scrub(secret: string, chunks: readonly string[]): string {
  const s = createKeyScrubber(secret);
  const out: Buffer[] = [];
  let inBytes = 0;
  let outEquivalent = 0; // output bytes, counting each [REDACTED] as the secret's length
  for (const c of chunks) {
    const o = Buffer.from(s.push(Buffer.from(c)));
    out.push(o);
    inBytes += Buffer.byteLength(c);
    const text = o.toString("latin1");
    const redactions = text.split(R).length - 1;
    outEquivalent += o.length + redactions * (Buffer.byteLength(secret) - R.length);
    const held = inBytes - outEquivalent;
    expect(held).toBeGreaterThanOrEqual(0);
    expect(held).toBeLessThan(Buffer.byteLength(secret));
  }
  out.push(Buffer.from(s.flush()));
  return Buffer.concat(out).toString("utf8");
}

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("createKeyScrubber", () => {
  const key = fakeKey();
  const body = `data: {"error":"bad key ${key}"}\n\n`;
  const expected = `data: {"error":"bad key ${R}"}\n\n`;

  it("replaces the key inside one chunk and passes other chunks through unchanged", () => {
    expect(scrub(key, [body])).toBe(expected);
    const s = createKeyScrubber(key);
    const plain = Buffer.from('data: {"choices":[]}\n\n');
    expect(s.push(plain)).toBe(plain); // the common path returns the chunk itself, no copy
  });

  it("replaces a key split at every position across two chunks", () => {
    for (let i = 0; i <= body.length; i++) {
      expect(scrub(key, [body.slice(0, i), body.slice(i)])).toBe(expected);
    }
  });

  it("replaces a key split across three chunks, for every pair of cuts inside it", () => {
    const start = body.indexOf(key);
    for (let i = start; i <= start + key.length; i++) {
      for (let j = i; j <= start + key.length; j++) {
        expect(scrub(key, [body.slice(0, i), body.slice(i, j), body.slice(j)])).toBe(expected);
      }
    }
  });

  it("replaces many occurrences, fed one byte at a time", () => {
    const input = `${key}${key} x ${key}\n${key}`;
    expect(scrub(key, [...input])).toBe(`${R}${R} x ${R}\n${R}`);
  });

  it("handles overlapping prefixes: secret aab in aaab, abab in ababab", () => {
    expect(scrub("aab", ["aa", "ab"])).toBe(`a${R}`);
    expect(scrub("aab", ["a", "a", "a", "b"])).toBe(`a${R}`);
    expect(scrub("abab", ["aba", "bab"])).toBe(`${R}ab`);
    expect(scrub("abab", ["ab", "a", "b", "a", "b", "ab"])).toBe(`${R}${R}`);
  });

  it("replaces a key at the very end of the stream", () => {
    expect(scrub(key, ["tail: ", key.slice(0, 10), key.slice(10)])).toBe(`tail: ${R}`);
  });

  it("holds a near-miss prefix and releases it unchanged at flush", () => {
    const s = createKeyScrubber(key);
    const near = key.slice(0, -1);
    expect(Buffer.from(s.push(Buffer.from(`x ${near}`))).toString()).toBe("x ");
    expect(Buffer.from(s.flush()).toString()).toBe(near);
    expect(Buffer.from(s.flush()).toString()).toBe("");
    expect(scrub(key, [near, "Z", near])).toBe(`${near}Z${near}`);
  });

  it("matches replaceAll on random inputs and random chunkings", () => {
    const next = rng(7);
    for (const secret of ["aab", "abab", "aXa", "b"]) {
      for (let round = 0; round < 300; round++) {
        const input = Array.from(
          { length: Math.floor(next() * 40) },
          () => "abX"[Math.floor(next() * 3)],
        ).join("");
        const chunks: string[] = [];
        for (let i = 0; i < input.length; ) {
          const n = Math.floor(next() * 5);
          chunks.push(input.slice(i, i + n));
          i += n;
        }
        expect(scrub(secret, chunks)).toBe(reference(input, secret));
      }
    }
  });

  it("works on multi-byte text around the key", () => {
    expect(scrub(key, ["€ ", `${key.slice(0, 5)}`, `${key.slice(5)} é`])).toBe(`€ ${R} é`);
  });

  it("refuses an empty secret and one over 256 bytes", () => {
    expect(() => createKeyScrubber("")).toThrow("the secret is empty");
    expect(() => createKeyScrubber("k".repeat(257))).toThrow("at most 256");
    expect(() => createKeyScrubber("k".repeat(256))).not.toThrow();
  });

  it("copies the held tail, so a caller reusing its buffer cannot corrupt it", () => {
    const s = createKeyScrubber("abc");
    const chunk = Buffer.from("xab");
    expect(Buffer.from(s.push(chunk)).toString()).toBe("x");
    chunk.fill(0x5a);
    expect(Buffer.from(s.push(Buffer.from("c"))).toString()).toBe(R);
  });
});

describe("filterWhole", () => {
  it("sends what the stream would have: a key in the middle and a key prefix at the end", () => {
    const key = fakeKey();
    const body = Buffer.from(`a ${key} b ${key.slice(0, 3)}`);
    expect(Buffer.from(filterWhole(createKeyScrubber(key), body)).toString()).toBe(
      `a ${R} b ${key.slice(0, 3)}`,
    );
  });
});
