import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createErrorBodyScrubber } from "../../gateway/scrub/error-body.ts";
import { ERROR_BODY_SHAPE_LIMIT, scrubErrorBody, scrubHeaders } from "../../gateway/scrub/shapes.ts";
import { createKeyScrubber } from "../../gateway/scrub/stream.ts";

const R = "[REDACTED]";
const openaiKey = () => `sk-test-${randomBytes(24).toString("hex")}`;
const googleKey = () => `AIza${randomBytes(27).toString("base64url")}`;

describe("scrubHeaders", () => {
  it("replaces the exact key and foreign key shapes in every value, drops undefined", () => {
    const key = `custom-${randomBytes(16).toString("hex")}`; // not a known shape: only the exact match catches it
    const foreign = openaiKey();
    const headers = {
      "x-echo": `key=${key}`,
      "x-debug": [`other ${foreign}`, "clean"],
      "x-google": `k=${googleKey()};`,
      "content-type": "application/json",
      "x-none": undefined,
    };
    const out = scrubHeaders(headers, key);
    expect(out).toBe(headers);
    expect(out).toEqual({
      "x-echo": `key=${R}`,
      "x-debug": [`other ${R}`, "clean"],
      "x-google": `k=${R};`,
      "content-type": "application/json",
    });
  });
});

describe("scrubErrorBody", () => {
  it("scrubs OpenAI's 'Incorrect API key provided' body", () => {
    const key = openaiKey();
    const body = JSON.stringify({
      error: {
        message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    });
    const out = JSON.parse(scrubErrorBody(Buffer.from(body), key).toString());
    expect(out.error.message).toBe(
      `Incorrect API key provided: ${R}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    );
    expect(out.error.code).toBe("invalid_api_key");
  });

  it("scrubs Google's 'API key not valid' body, including a key shape that is not the one sent", () => {
    const sent = googleKey();
    const other = googleKey();
    const body = `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key. (${sent}, ${other})","status":"INVALID_ARGUMENT"}}`;
    expect(scrubErrorBody(Buffer.from(body), sent).toString()).toBe(
      `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key. (${R}, ${R})","status":"INVALID_ARGUMENT"}}`,
    );
  });

  it("returns a body without secrets unchanged, byte for byte (even invalid UTF-8)", () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0xc3, 0x7d]);
    expect(scrubErrorBody(body, openaiKey())).toBe(body);
  });

  it("beyond the 1 MiB limit replaces only the exact key, also where it straddles the limit", () => {
    const key = openaiKey();
    const foreign = openaiKey();
    const pad = "x".repeat(ERROR_BODY_SHAPE_LIMIT - 10);
    const body = `${pad}${key} then ${foreign} and ${key}`;
    expect(scrubErrorBody(Buffer.from(body), key).toString()).toBe(`${pad}${R} then ${foreign} and ${R}`);
  });
});

describe("2xx bodies: only the exact key", () => {
  it("leaves a base64 embedding that looks like a key alone", () => {
    const key = openaiKey();
    const lookalike = `sk-${randomBytes(30).toString("base64url")}`;
    const body = `{"data":[{"embedding":"${lookalike}"}],"note":"${key}"}`;
    const s = createKeyScrubber(key);
    const out = Buffer.concat([s.push(Buffer.from(body)), s.flush()]).toString();
    expect(out).toBe(`{"data":[{"embedding":"${lookalike}"}],"note":"${R}"}`);
  });
});

describe("createErrorBodyScrubber", () => {
  const run = (chunks: string[], key: string, limit?: number) => {
    const filter = createErrorBodyScrubber(key, limit);
    const out = chunks.map((c) => Buffer.from(filter.push(Buffer.from(c))));
    return Buffer.concat([...out, filter.flush()]).toString();
  };

  it("under the limit: exact key and shapes, whatever the chunking", () => {
    const key = `custom-${randomBytes(16).toString("hex")}`;
    const foreign = openaiKey();
    const body = `{"message":"bad ${key} and ${foreign}"}`;
    expect(run([body.slice(0, 20), body.slice(20, 31), body.slice(31)], key)).toBe(
      `{"message":"bad ${R} and ${R}"}`,
    );
  });

  it("over the limit: shapes in the head, the exact key everywhere, also across the cut", () => {
    const key = openaiKey();
    const foreign = openaiKey();
    const head = `${foreign} ${"x".repeat(40)}${key.slice(0, 9)}`; // 64+ bytes: the key straddles the cut
    const out = run([head, `${key.slice(9)} ${foreign} ${key}`], key, 64);
    expect(out).toBe(`${R} ${"x".repeat(40)}${R} ${foreign} ${R}`);
  });

  it("refuses a bad limit", () => {
    expect(() => createErrorBodyScrubber(openaiKey(), 0)).toThrow("limit must be a positive integer");
  });
});
