import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJwtVerifier } from "../../gateway/auth/verifier.ts";
import { GatewayError } from "../../gateway/errors.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { authPolicy, expectUnauthorized } from "./support.ts";

let server: Server;
let jwksUrl: string;
let fetches = 0;
const rsa = await generateKeyPair("RS256");
const ec = await generateKeyPair("ES256");
const stranger = await generateKeyPair("RS256");

beforeAll(async () => {
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
    { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
  ];
  server = createServer((req, res) => {
    fetches++;
    if (req.url !== "/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("createJwtVerifier with a JWKS", () => {
  it("accepts RS256 and ES256 tokens whose kid is in the set, fetching the set once", async () => {
    const verifier = createJwtVerifier(
      authPolicy({ algorithms: ["RS256", "ES256"], jwksUrl, secretEnv: [] }),
      {},
    );
    const before = fetches;
    const rsToken = await mintToken({ sub: "alice", alg: "RS256", kid: "rsa-1", secret: rsa.privateKey });
    const esToken = await mintToken({ sub: "bob", alg: "ES256", kid: "ec-1", secret: ec.privateKey });
    expect((await verifier.verify(rsToken)).user).toBe("alice");
    expect((await verifier.verify(esToken)).user).toBe("bob");
    expect(fetches - before).toBe(1);
  });

  it("refuses a token signed by a key outside the set", async () => {
    const verifier = createJwtVerifier(authPolicy({ algorithms: ["RS256"], jwksUrl, secretEnv: [] }), {});
    const forged = await mintToken({ sub: "alice", alg: "RS256", kid: "rsa-1", secret: stranger.privateKey });
    const unknownKid = await mintToken({
      sub: "alice",
      alg: "RS256",
      kid: "rsa-9",
      secret: stranger.privateKey,
    });
    await expectUnauthorized(verifier.verify(forged), "signature invalid");
    await expectUnauthorized(verifier.verify(unknownKid), "signature invalid");
  });

  it("accepts HS256 and JWKS tokens side by side, and an HS256 token signed with the public key fails", async () => {
    const secret = randomSecret();
    const verifier = createJwtVerifier(authPolicy({ algorithms: ["HS256", "RS256"], jwksUrl }), {
      KEYGATE_JWT_SECRET: secret,
    });
    expect((await verifier.verify(await mintToken({ sub: "hs", secret }))).user).toBe("hs");
    const rsToken = await mintToken({ sub: "rs", alg: "RS256", kid: "rsa-1", secret: rsa.privateKey });
    expect((await verifier.verify(rsToken)).user).toBe("rs");
    // Algorithm confusion: the public key (known to anyone) used as an HMAC secret.
    const confused = await mintToken({ sub: "mallory", secret: await exportSPKI(rsa.publicKey) });
    await expectUnauthorized(verifier.verify(confused), "signature invalid");
  });

  it("refuses an HS256 token when only JWKS algorithms are allowed", async () => {
    const verifier = createJwtVerifier(authPolicy({ algorithms: ["RS256"], jwksUrl, secretEnv: [] }), {});
    await expectUnauthorized(
      verifier.verify(await mintToken({ sub: "a", secret: randomSecret() })),
      "algorithm not allowed",
    );
  });

  it("answers 503, not 401, when the key set cannot be fetched", async () => {
    const missing = jwksUrl.replace("/jwks.json", "/gone.json");
    const verifier = createJwtVerifier(
      authPolicy({ algorithms: ["RS256"], jwksUrl: missing, secretEnv: [] }),
      {},
    );
    const token = await mintToken({ sub: "alice", alg: "RS256", kid: "rsa-1", secret: rsa.privateKey });
    const error = await verifier.verify(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      status: 503,
      slug: "upstream-unavailable",
      headers: { "Retry-After": "5" },
    });
  });
});
