import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../gateway/errors.ts";
import { setProviderKey, stripClientCredentials } from "../../gateway/providers/credentials.ts";

const jwt = () =>
  `eyJhbGciOiJIUzI1NiJ9.${randomBytes(12).toString("base64url")}.${randomBytes(12).toString("base64url")}`;

describe("stripClientCredentials", () => {
  const token = jwt();
  const client = {
    Authorization: `Bearer ${token}`,
    "x-api-key": token,
    "X-Goog-Api-Key": token,
    cookie: "session=abc",
    "proxy-authorization": "Basic eDp5",
    "openai-organization": "org-1",
    "openai-project": "proj-1",
    "x-keygate-user": "mallory",
    "X-Keygate-Anything": "1",
    "content-type": "application/json",
    "anthropic-version": "2023-06-01",
    accept: ["text/event-stream", "application/json"],
    "x-absent": undefined,
  };

  it("removes every credential and x-keygate-* header and keeps the rest, lower-cased", () => {
    expect(stripClientCredentials(client, new Set())).toEqual({
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      accept: ["text/event-stream", "application/json"],
    });
  });

  it("keeps openai-organization / openai-project only when the provider lists them", () => {
    const out = stripClientCredentials(client, new Set(["openai-organization", "openai-project"]));
    expect(out["openai-organization"]).toBe("org-1");
    expect(out["openai-project"]).toBe("proj-1");
  });

  it("never keeps a credential header, even when listed", () => {
    const out = stripClientCredentials(
      client,
      new Set(["authorization", "x-api-key", "cookie", "x-keygate-user"]),
    );
    expect(Object.keys(out).sort()).toEqual(["accept", "anthropic-version", "content-type"]);
  });

  it("does not modify its input", () => {
    const input = { authorization: "Bearer x", accept: "a" };
    stripClientCredentials(input, new Set());
    expect(input).toEqual({ authorization: "Bearer x", accept: "a" });
  });
});

describe("setProviderKey", () => {
  const key = `sk-test-${randomBytes(24).toString("hex")}`;

  it.each([
    ["bearer", "authorization", `Bearer ${key}`],
    ["x-api-key", "x-api-key", key],
    ["x-goog-api-key", "x-goog-api-key", key],
  ] as const)("slot %s → header %s", (slot, header, value) => {
    const headers: Record<string, string | string[]> = { accept: "a" };
    setProviderKey(headers, slot, key);
    expect(headers).toEqual({ accept: "a", [header]: value });
  });

  it.each([[""], ["a".repeat(257)], ["sk-test-with\r\nx-injected: 1"], ["sk test"]])(
    "refuses an unusable stored key without echoing it (%#)",
    (bad) => {
      const headers: Record<string, string | string[]> = {};
      const err = (() => {
        try {
          setProviderKey(headers, "bearer", bad);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).status).toBe(500);
      if (bad.length > 0) expect((err as GatewayError).message).not.toContain(bad);
      expect(headers).toEqual({});
    },
  );
});
