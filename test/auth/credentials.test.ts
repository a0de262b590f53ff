import { describe, expect, it } from "vitest";
import { bearerToken, egressToken } from "../../gateway/auth/credentials.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { expectUnauthorized } from "./support.ts";

const jwt = await mintToken({ sub: "alice", secret: randomSecret() });
const other = await mintToken({ sub: "bob", secret: randomSecret() });

function expectThrown401(action: () => unknown, description: string) {
  return expectUnauthorized(
    Promise.resolve().then(() => action()),
    description,
  );
}

describe("bearerToken", () => {
  it("returns the token for any letter case of the scheme", () => {
    expect(bearerToken(`Bearer ${jwt}`)).toBe(jwt);
    expect(bearerToken(`bearer ${jwt}`)).toBe(jwt);
    expect(bearerToken(`BEARER  ${jwt} `)).toBe(jwt);
  });

  it("returns undefined when the header is absent or blank", () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken("")).toBeUndefined();
    expect(bearerToken("   ")).toBeUndefined();
  });

  it.each([["Basic dXNlcjpwYXNz"], ["Bearer"], ["Bearer   "], [jwt], ["Bearer a b"], ["Token abc"]])(
    "refuses %j as malformed",
    async (header) => {
      await expectThrown401(() => bearerToken(header), "token malformed");
    },
  );
});

describe("egressToken", () => {
  const query = (q: string) => new URLSearchParams(q);

  it.each([
    ["Authorization: Bearer", new Headers({ authorization: `Bearer ${jwt}` }), undefined],
    ["x-api-key", new Headers({ "x-api-key": jwt }), undefined],
    ["x-goog-api-key", new Headers({ "x-goog-api-key": jwt }), undefined],
    ["?key=", new Headers(), query(`key=${jwt}&alt=sse`)],
  ])("finds the token in %s", (_where, headers, q) => {
    expect(egressToken(headers, q)).toBe(jwt);
  });

  it("reads Node's IncomingHttpHeaders records too", () => {
    expect(egressToken({ "x-api-key": jwt, host: "127.0.0.1" }, undefined)).toBe(jwt);
    expect(egressToken({ "x-api-key": [jwt, jwt] }, undefined)).toBe(jwt);
  });

  it("accepts the same value in several places", () => {
    const headers = new Headers({ authorization: `Bearer ${jwt}`, "x-api-key": jwt, "x-goog-api-key": jwt });
    expect(egressToken(headers, query(`key=${jwt}`))).toBe(jwt);
  });

  it.each([
    ["header vs header", new Headers({ authorization: `Bearer ${jwt}`, "x-api-key": other }), undefined],
    ["header vs query", new Headers({ "x-goog-api-key": jwt }), query(`key=${other}`)],
    [
      "repeated header",
      new Headers([
        ["x-api-key", jwt],
        ["x-api-key", other],
      ]),
      undefined,
    ],
    ["repeated query", new Headers(), query(`key=${jwt}&key=${other}`)],
  ])("refuses two different values (%s)", async (_case, headers, q) => {
    await expectThrown401(() => egressToken(headers, q), "conflicting credentials");
  });

  it("returns undefined when no place holds a token", () => {
    expect(
      egressToken(new Headers({ "content-type": "application/json" }), query("alt=sse")),
    ).toBeUndefined();
    expect(egressToken(new Headers({ "x-api-key": "" }), query("key="))).toBeUndefined();
    expect(egressToken({}, undefined)).toBeUndefined();
  });

  it("refuses a non-Bearer Authorization as malformed", async () => {
    await expectThrown401(
      () => egressToken(new Headers({ authorization: "Basic dXNlcjpwYXNz" }), undefined),
      "token malformed",
    );
  });
});
