import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEPLOY_DIR, deployFiles } from "./metric-names.ts";

describe("JSON under deploy/", () => {
  it("finds the task definition, agent config and both dashboards", async () => {
    expect((await deployFiles()).filter((f) => f.endsWith(".json"))).toEqual([
      "cloudwatch/agent.json",
      "cloudwatch/dashboard.json",
      "ecs/task-definition.json",
      "grafana/keygate.json",
    ]);
  });

  it.each([
    "cloudwatch/agent.json",
    "cloudwatch/dashboard.json",
    "ecs/task-definition.json",
    "grafana/keygate.json",
  ])("%s parses as JSON", async (file) => {
    const text = await readFile(join(DEPLOY_DIR, file), "utf8");
    expect(() => JSON.parse(text)).not.toThrow();
  });

  it("the Grafana dashboard's panels query Prometheus through the datasource variable", async () => {
    const dashboard = JSON.parse(await readFile(join(DEPLOY_DIR, "grafana/keygate.json"), "utf8")) as {
      uid: string;
      panels: { type: string; targets?: { expr: string; datasource: { uid: string } }[] }[];
    };
    expect(dashboard.uid).toBe("keygate");
    const targets = dashboard.panels.flatMap((p) => p.targets ?? []);
    expect(targets.length).toBeGreaterThan(15);
    for (const t of targets) {
      expect(t.datasource.uid).toBe(`\${datasource}`);
      expect(t.expr).toContain('job=~"$job"');
    }
  });
});
