import { describe, expect, it } from "vitest";
import { parseDuration, parseRate, parseSize } from "../../policies/units.ts";

describe("policy units", () => {
  it("parses durations in every unit", () => {
    expect(["500ms", "0s", "5s", "2m", "1h", "7d"].map(parseDuration)).toEqual([
      500, 0, 5_000, 120_000, 3_600_000, 604_800_000,
    ]);
  });

  it("parses rates, with the count of a unit optional", () => {
    expect(parseRate("60/1m")).toEqual({ quota: 60, windowMs: 60_000, text: "60/1m" });
    expect(parseRate("60/m")).toEqual({ quota: 60, windowMs: 60_000, text: "60/m" });
    expect(parseRate("1000/1h")).toEqual({ quota: 1000, windowMs: 3_600_000, text: "1000/1h" });
    expect(parseRate("10/30s")).toEqual({ quota: 10, windowMs: 30_000, text: "10/30s" });
  });

  it("refuses rates of zero and zero windows", () => {
    expect(() => parseRate("0/1m")).toThrow("not a rate: 0/1m");
    expect(() => parseRate("5/0s")).toThrow("not a rate: 5/0s");
  });

  it("parses sizes with decimal and binary units", () => {
    expect([4_194_304, "4MiB", "512KiB", "1MB", "2kB", "10B", "1GiB"].map(parseSize)).toEqual([
      4_194_304, 4_194_304, 524_288, 1_000_000, 2_000, 10, 1_073_741_824,
    ]);
  });
});
