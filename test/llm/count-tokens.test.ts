import { describe, expect, it } from "vitest";
import { countTokens } from "../../gateway/providers/usage/index.ts";
import type { TokenKind } from "../../policies/types.ts";

const usage = { input: 1000, output: 200, cached: 30 };

describe("countTokens", () => {
  const combos: [TokenKind[], number][] = [
    [[], 0],
    [["input"], 1000],
    [["output"], 200],
    [["cached"], 30],
    [["input", "output"], 1200],
    [["input", "cached"], 1030],
    [["output", "cached"], 230],
    [["input", "output", "cached"], 1230],
  ];
  it.each(combos)("counts %j as %i", (kinds, expected) => {
    expect(countTokens(usage, kinds)).toBe(expected);
  });

  it("counts a kind listed twice once", () => {
    expect(countTokens(usage, ["output", "output"])).toBe(200);
  });
});
