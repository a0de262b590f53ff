import { describe, expect, it } from "vitest";
import { createMetrics } from "../../gateway/metrics.ts";
import {
  histogramFamilies,
  metricNamesByFile,
  metricNamesIn,
  metricNamesUsedByDeploy,
  seriesNamesFromExposition,
} from "./metric-names.ts";

async function exposition(): Promise<string> {
  return createMetrics().registry.metrics();
}

describe("metric names used by deploy/", () => {
  it("every name a dashboard, alarm or collector config uses is exported by keygate", async () => {
    const exported = seriesNamesFromExposition(await exposition());
    const used = await metricNamesUsedByDeploy();
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it("finds names in every monitoring file, so the check above is not vacuous", async () => {
    const byFile = await metricNamesByFile();
    expect([...byFile.keys()]).toEqual([
      "cloudwatch/agent.json",
      "cloudwatch/dashboard.json",
      "cloudwatch/prometheus.yaml",
      "grafana/keygate.json",
      "terraform/alarms.tf",
    ]);
    expect([...(byFile.get("terraform/alarms.tf") ?? [])].sort()).toEqual([
      "keygate_policy_reloads_total",
      "keygate_requests_total",
      "keygate_store_degraded",
      "keygate_vault_records",
    ]);
  });

  it("the Grafana dashboard covers requests, latency, 429s, store, policy and tokens", async () => {
    const grafana = (await metricNamesByFile()).get("grafana/keygate.json") ?? new Set();
    for (const name of [
      "keygate_requests_total",
      "keygate_request_duration_seconds_bucket",
      "keygate_ratelimit_rejections_total",
      "keygate_store_degraded",
      "keygate_store_errors_total",
      "keygate_policy_reloads_total",
      "keygate_llm_tokens_total",
    ]) {
      expect(grafana).toContain(name);
    }
  });
});

describe("metricNamesIn", () => {
  it("takes whole keygate_* names out of PromQL, JSON and regexes", () => {
    const text =
      'rate(keygate_requests_total{job="x"}[5m]) "^keygate_store_degraded$" histogram_quantile(0.9, keygate_request_duration_seconds_bucket) KEYGATE_REPLICAS keygate-policy';
    expect([...metricNamesIn(text)].sort()).toEqual([
      "keygate_request_duration_seconds_bucket",
      "keygate_requests_total",
      "keygate_store_degraded",
    ]);
  });
});

describe("seriesNamesFromExposition", () => {
  const text = [
    "# HELP a_total A.",
    "# TYPE a_total counter",
    "# HELP h_seconds H.",
    "# TYPE h_seconds histogram",
    'h_seconds_bucket{le="1"} 0',
    "# TYPE s summary",
    "# TYPE g gauge",
  ].join("\n");

  it("declares labelled metrics without samples and expands histograms and summaries", () => {
    expect([...seriesNamesFromExposition(text)].sort()).toEqual([
      "a_total",
      "g",
      "h_seconds_bucket",
      "h_seconds_count",
      "h_seconds_sum",
      "s",
      "s_count",
      "s_sum",
    ]);
  });

  it("lists histogram families", () => {
    expect([...histogramFamilies(text)]).toEqual(["h_seconds"]);
  });

  it("reports a name keygate does not export as missing", async () => {
    const exported = seriesNamesFromExposition(await exposition());
    expect(exported.has("keygate_requests_total")).toBe(true);
    expect(exported.has("keygate_request_duration_seconds_bucket")).toBe(true);
    expect(exported.has("keygate_request_duration_seconds")).toBe(false);
    expect(exported.has("keygate_vault_keys_total")).toBe(false);
  });
});
