import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { createMetrics } from "../../gateway/metrics.ts";
import { placeholders, readJson, readRepo, templatefileKeys } from "./deploy-files.ts";
import { histogramFamilies } from "./metric-names.ts";

interface Declaration {
  source_labels: string[];
  label_matcher: string;
  dimensions: string[][];
  metric_selectors: string[];
}

async function declarations(): Promise<Declaration[]> {
  const agent = await readJson<{
    logs: { metrics_collected: { prometheus: { emf_processor: { metric_declaration: Declaration[] } } } };
  }>("deploy/cloudwatch/agent.json");
  return agent.logs.metrics_collected.prometheus.emf_processor.metric_declaration;
}

const key = (dims: readonly string[]) => [...dims].sort().join(",");

/** metric → the dimension sets the agent publishes it with. */
async function declaredDimensions(): Promise<Map<string, Set<string>>> {
  const declared = new Map<string, Set<string>>();
  for (const d of await declarations()) {
    for (const selector of d.metric_selectors) {
      const name = /^\^(keygate_[a-z0-9_]+)\$$/.exec(selector)?.[1];
      if (!name) throw new Error(`selector ${selector} is not an anchored metric name`);
      const sets = declared.get(name) ?? new Set<string>();
      for (const dims of d.dimensions) sets.add(key(dims));
      declared.set(name, sets);
    }
  }
  return declared;
}

/** [metric, dimension set] pairs the CloudWatch dashboard and the alarms query in the Keygate namespace. */
async function queriedDimensions(): Promise<[string, string][]> {
  const used: [string, string][] = [];
  const dashboard = await readRepo("deploy/cloudwatch/dashboard.json");
  for (const widget of (JSON.parse(dashboard) as { widgets: { properties: { metrics?: unknown[][] } }[] })
    .widgets) {
    for (const row of widget.properties.metrics ?? []) {
      if (row[0] !== "Keygate") continue;
      const dims: string[] = [];
      for (let i = 2; i + 1 < row.length && typeof row[i] === "string"; i += 2) dims.push(row[i] as string);
      used.push([row[1] as string, key(dims)]);
    }
  }
  for (const m of dashboard.matchAll(/SEARCH\('\{Keygate,([^}]*)\} MetricName=\\"(keygate_[a-z0-9_]+)\\"/g)) {
    used.push([m[2] as string, key((m[1] as string).split(","))]);
  }
  const alarms = await readRepo("deploy/terraform/alarms.tf");
  for (const m of alarms.matchAll(
    /metric_name\s*=\s*"(keygate_[a-z0-9_]+)"[\s\S]*?dimensions\s*=\s*\{([^}]*)\}/g,
  )) {
    const dims = [...(m[2] as string).matchAll(/^\s*([a-z_]+)\s*=/gm)].map((d) => d[1] as string);
    used.push([m[1] as string, key(dims)]);
  }
  return used;
}

describe("CloudWatch agent config", () => {
  it("selects exactly the metrics the scrape config keeps", async () => {
    const selected = [...(await declaredDimensions()).keys()].sort();
    const scrape = parseYaml(await readRepo("deploy/cloudwatch/prometheus.yaml")) as {
      scrape_configs: { job_name: string; metric_relabel_configs: { action?: string; regex: string }[] }[];
    };
    const job = scrape.scrape_configs[0];
    expect(job?.job_name).toBe("keygate");
    const keep = job?.metric_relabel_configs.find((r) => r.action === "keep");
    expect(keep?.regex.split("|").sort()).toEqual(selected);
  });

  it("matches the scrape job by name and selects no histogram (the agent drops them)", async () => {
    const histograms = histogramFamilies(await createMetrics().registry.metrics());
    for (const d of await declarations()) {
      expect(d.source_labels).toEqual(["job"]);
      expect(d.label_matcher).toBe("^keygate$");
      for (const selector of d.metric_selectors) expect(histograms.has(selector.slice(1, -1))).toBe(false);
    }
  });

  it("publishes every dimension set the dashboard and the alarms query", async () => {
    const declared = await declaredDimensions();
    const used = await queriedDimensions();
    expect(used.length).toBeGreaterThan(10);
    const undeclared = used.filter(([metric, dims]) => !declared.get(metric)?.has(dims));
    expect(undeclared).toEqual([]);
  });

  it("uses as dimensions only labels the metric has (plus the scrape's service and status_class)", async () => {
    const { registry } = createMetrics();
    for (const [metric, sets] of await declaredDimensions()) {
      const labels = (registry.getSingleMetric(metric) as unknown as { labelNames: string[] }).labelNames;
      const allowed = new Set(["service", ...labels, ...(labels.includes("status") ? ["status_class"] : [])]);
      for (const set of sets)
        for (const dim of set.split(",")) expect(allowed, `${metric}: ${dim}`).toContain(dim);
    }
  });
});

describe("templates rendered by Terraform", () => {
  const cases = [
    ["deploy/cloudwatch/dashboard.json", "deploy/terraform/monitoring.tf"],
    ["deploy/cloudwatch/agent.json", "deploy/terraform/config.tf"],
    ["deploy/cloudwatch/prometheus.yaml", "deploy/terraform/config.tf"],
    ["deploy/ecs/task-definition.json", "deploy/terraform/ecs.tf"],
  ] as const;

  it.each(cases)("%s gets every placeholder from %s, and nothing else", async (template, tf) => {
    const file = template.slice("deploy/".length);
    const passed = templatefileKeys(await readRepo(tf), file);
    expect([...placeholders(await readRepo(template))].sort()).toEqual([...passed].sort());
  });
});
