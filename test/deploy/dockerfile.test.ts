import { describe, expect, it } from "vitest";
import { execForm, type Instruction, parseDockerfile, readRepo } from "./deploy-files.ts";

async function instructions(): Promise<Instruction[]> {
  return parseDockerfile(await readRepo("Dockerfile"));
}

function runtime(all: Instruction[]): Instruction[] {
  const last = Math.max(...all.map((i) => i.stage));
  return all.filter((i) => i.stage === last);
}

describe("Dockerfile", () => {
  it("builds on Node 24: slim for npm and the compile, distroless for the runtime", async () => {
    const all = await instructions();
    const args = Object.fromEntries(
      all.filter((i) => i.keyword === "ARG" && i.args.includes("=")).map((i) => i.args.split("=")),
    );
    expect(args["NODE_MAJOR"]).toBe("24");
    const froms = all.filter((i) => i.keyword === "FROM").map((i) => i.args);
    expect(froms).toEqual([
      `node:\${NODE_MAJOR}-slim AS deps`,
      `node:\${NODE_MAJOR}-slim AS build`,
      `gcr.io/distroless/nodejs\${NODE_MAJOR}-debian12:nonroot AS runtime`,
    ]);
  });

  it("ships only production dependencies from the lockfile, and the compiled build", async () => {
    const all = await instructions();
    const runs = (stage: number) =>
      all.filter((i) => i.stage === stage && i.keyword === "RUN").map((i) => i.args);
    expect(runs(0)).toHaveLength(1);
    expect(runs(0)[0]).toMatch(/^npm ci --omit=dev\b/);
    // The build stage needs the dev dependencies (TypeScript), but none of them reaches the runtime.
    expect(runs(1)).toEqual(["npm ci --ignore-scripts --no-audit --no-fund", "npm run build"]);
    const fromStages = runtime(all)
      .filter((i) => i.keyword === "COPY" && i.args.startsWith("--from"))
      .map((i) => i.args);
    expect(fromStages).toEqual([
      "--from=deps /app/node_modules ./node_modules",
      "--from=build /app/dist ./dist",
    ]);
  });

  it("runs as a non-root numeric user", async () => {
    const users = runtime(await instructions()).filter((i) => i.keyword === "USER");
    expect(users.map((u) => u.args)).toEqual(["65532:65532"]);
  });

  it("starts node directly in exec form (SIGTERM reaches node) with the command npm start runs", async () => {
    const rt = runtime(await instructions());
    const entrypoint = execForm(rt.find((i) => i.keyword === "ENTRYPOINT")?.args ?? "");
    const cmd = execForm(rt.find((i) => i.keyword === "CMD")?.args ?? "");
    expect(entrypoint).toEqual(["/nodejs/bin/node", "--max-semi-space-size=8", "dist/gateway/cli.js"]);
    expect(cmd).toEqual(["serve"]);
    const pkg = JSON.parse(await readRepo("package.json")) as { scripts: Record<string, string> };
    expect(`node ${entrypoint?.slice(1).join(" ")} ${cmd?.join(" ")}`).toBe(pkg.scripts["start"]);
  });

  it("has an exec-form HEALTHCHECK against the admin listener", async () => {
    const hc = runtime(await instructions()).find((i) => i.keyword === "HEALTHCHECK");
    expect(hc?.args).toMatch(/^--interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+ CMD \[/);
    const command = execForm(hc?.args.slice(hc.args.indexOf("CMD ") + 4) ?? "");
    expect(command?.slice(0, 2)).toEqual(["/nodejs/bin/node", "-e"]);
    expect(command?.[2]).toContain("KEYGATE_ADMIN");
    expect(command?.[2]).toContain("/healthz");
  });

  it("reads the policy from /etc/keygate, where a read-only mount replaces the default", async () => {
    const rt = runtime(await instructions());
    expect(rt.find((i) => i.keyword === "ENV")?.args).toContain(
      "KEYGATE_POLICIES=/etc/keygate/policies.yaml",
    );
    expect(rt.find((i) => i.keyword === "ENV")?.args).toContain("NODE_ENV=production");
    expect(rt.filter((i) => i.keyword === "COPY").map((i) => i.args)).toContain(
      "policies.yaml /etc/keygate/policies.yaml",
    );
  });

  it("copies only the sources, build config, policy, schema and lockfile, each allowed by .dockerignore", async () => {
    const all = await instructions();
    const sourcesOf = (copies: Instruction[]) =>
      [
        ...new Set(
          copies
            .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
            .flatMap((i) => i.args.split(/\s+/).slice(0, -1)),
        ),
      ].sort();
    // The runtime gets no sources: only the compiled build (above), the policy, schema and lockfile.
    expect(sourcesOf(runtime(all))).toEqual([
      "package-lock.json",
      "package.json",
      "policies.schema.json",
      "policies.yaml",
    ]);
    const sources = sourcesOf(all);
    expect(sources).toEqual([
      "gateway",
      "package-lock.json",
      "package.json",
      "policies",
      "policies.schema.json",
      "policies.yaml",
      "tsconfig.build.json",
      "tsconfig.json",
    ]);
    const ignore = (await readRepo(".dockerignore")).split("\n").filter((l) => l && !l.startsWith("#"));
    expect(ignore[0]).toBe("*");
    const allowed = new Set(
      ignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, "")),
    );
    for (const source of sources) expect(allowed, source).toContain(source);
  });

  it("publishes only the ingress port", async () => {
    const exposed = runtime(await instructions()).filter((i) => i.keyword === "EXPOSE");
    expect(exposed.map((i) => i.args)).toEqual(["8080"]);
  });
});

describe("parseDockerfile", () => {
  it("joins continuations, drops comments and numbers stages", () => {
    const parsed = parseDockerfile('# c\nFROM a AS b\nRUN x \\\n  # inner\n  y\nFROM c\nCMD ["z"]\n');
    expect(parsed).toEqual([
      { keyword: "FROM", args: "a AS b", stage: 0 },
      { keyword: "RUN", args: "x y", stage: 0 },
      { keyword: "FROM", args: "c", stage: 1 },
      { keyword: "CMD", args: '["z"]', stage: 1 },
    ]);
  });
});
