import { describe, expect, it } from "vitest";
import { container, env, parseDockerfile, readRepo, taskDefinition } from "./deploy-files.ts";

const DEFAULT_DRAIN_TIMEOUT = 25;
/** Environment names that would hold a secret if set in plain `environment`. */
const SECRET_NAME = /SECRET|MASTER_KEYS|TOKEN|PASSWORD|REDIS_URL|API_KEY/;

describe("ECS task definition (deploy/ecs/task-definition.json)", () => {
  it("is awsvpc on Fargate with keygate, the app, the policy writer and the metrics agent", async () => {
    const td = await taskDefinition();
    expect(td.networkMode).toBe("awsvpc");
    expect(td.requiresCompatibilities).toEqual(["FARGATE"]);
    expect(td.containerDefinitions.map((c) => c.name)).toEqual([
      "keygate-policy",
      "keygate",
      "app",
      "cloudwatch-agent",
    ]);
  });

  it("exposes only keygate's ingress port; egress and admin stay on loopback", async () => {
    const td = await taskDefinition();
    const ports = td.containerDefinitions.flatMap((c) =>
      (c.portMappings ?? []).map((p) => [c.name, p.containerPort]),
    );
    expect(ports).toEqual([["keygate", 8080]]);
    const keygate = container(td, "keygate");
    expect(env(keygate, "KEYGATE_INGRESS")).toBe("0.0.0.0:8080");
    expect(env(keygate, "KEYGATE_EGRESS")).toBe("127.0.0.1:8081");
    expect(env(keygate, "KEYGATE_ADMIN")).toBe("127.0.0.1:9090");
  });

  it("points keygate at an app that listens on loopback, so x-keygate-user cannot be forged", async () => {
    const td = await taskDefinition();
    const app = container(td, "app");
    expect(env(app, "HOST")).toBe("127.0.0.1");
    expect(env(container(td, "keygate"), "APP_URL")).toBe(`http://127.0.0.1:${env(app, "PORT")}`);
  });

  it("stops keygate after its drain: stopTimeout above KEYGATE_DRAIN_TIMEOUT", async () => {
    const keygate = container(await taskDefinition(), "keygate");
    const drain = Number(env(keygate, "KEYGATE_DRAIN_TIMEOUT") ?? DEFAULT_DRAIN_TIMEOUT);
    expect(keygate.stopTimeout).toBeGreaterThan(drain);
    expect(keygate.stopTimeout).toBeLessThanOrEqual(120);
  });

  it("takes every secret from Secrets Manager or SSM, never from plain environment", async () => {
    const td = await taskDefinition();
    for (const c of td.containerDefinitions) {
      for (const e of c.environment ?? []) expect(e.name, `${c.name}.${e.name}`).not.toMatch(SECRET_NAME);
    }
    const keygate = container(td, "keygate");
    expect(keygate.secrets?.map((s) => s.name).sort()).toEqual([
      "KEYGATE_JWT_SECRET",
      "KEYGATE_JWT_SECRET_PREVIOUS",
      "KEYGATE_MASTER_KEYS",
      "REDIS_URL",
    ]);
    for (const s of keygate.secrets ?? [])
      expect(s.valueFrom).toMatch(/^\$\{[A-Z_]+_SECRET(_PREVIOUS)?_ARN\}$/);
  });

  it("keygate is essential and healthy before the app starts", async () => {
    const td = await taskDefinition();
    const keygate = container(td, "keygate");
    expect(keygate.essential).toBe(true);
    expect(keygate.healthCheck?.command[0]).toBe("CMD");
    expect(container(td, "app").dependsOn).toEqual([{ containerName: "keygate", condition: "HEALTHY" }]);
    expect(keygate.dependsOn).toEqual([{ containerName: "keygate-policy", condition: "SUCCESS" }]);
    expect(container(td, "cloudwatch-agent").essential).toBe(false);
  });

  it("runs the same health check as the image's HEALTHCHECK", async () => {
    const healthcheck = parseDockerfile(await readRepo("Dockerfile")).find(
      (i) => i.keyword === "HEALTHCHECK",
    );
    const exec = JSON.parse(
      healthcheck?.args.slice(healthcheck.args.indexOf("CMD ") + 4) ?? "null",
    ) as string[];
    const keygate = container(await taskDefinition(), "keygate");
    expect(keygate.healthCheck?.command).toEqual(["CMD", ...exec]);
  });

  it("mounts the policy read-only where KEYGATE_POLICIES points, written by the init container", async () => {
    const td = await taskDefinition();
    const keygate = container(td, "keygate");
    expect(env(keygate, "KEYGATE_POLICIES")).toBe("/etc/keygate/policies.yaml");
    expect(keygate.mountPoints).toEqual([
      { sourceVolume: "keygate-policy", containerPath: "/etc/keygate", readOnly: true },
    ]);
    expect(keygate.readonlyRootFilesystem).toBe(true);
    const writer = container(td, "keygate-policy");
    expect(writer.essential).toBe(false);
    expect(writer.entryPoint?.join(" ")).toContain("/etc/keygate/policies.yaml");
    expect(writer.secrets).toEqual([{ name: "KEYGATE_POLICY_YAML", valueFrom: `\${POLICY_PARAMETER_ARN}` }]);
  });

  it("logs every container to CloudWatch Logs, keygate without blocking on the log driver", async () => {
    const td = await taskDefinition();
    for (const c of td.containerDefinitions) expect(c.logConfiguration?.logDriver, c.name).toBe("awslogs");
    expect(container(td, "keygate").logConfiguration?.options["mode"]).toBe("non-blocking");
  });
});

describe("Terraform service (deploy/terraform/ecs.tf)", () => {
  it("registers only keygate's ingress in the target group", async () => {
    const ecs = await readRepo("deploy/terraform/ecs.tf");
    const blocks = [...ecs.matchAll(/load_balancer \{([^}]*)\}/g)].map((m) => m[1] ?? "");
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatch(/container_name\s*=\s*"keygate"/);
    expect(blocks[0]).toMatch(/container_port\s*=\s*8080/);
    expect(ecs).toMatch(/path\s*=\s*"\/_keygate\/healthz"/);
  });

  it("opens the task's security group to the ALB on 8080 only", async () => {
    const network = await readRepo("deploy/terraform/network.tf");
    const taskIngress = [
      ...network.matchAll(/resource "aws_vpc_security_group_ingress_rule" "(\w+)" \{([^}]*)\}/g),
    ].filter((m) => /^\s*security_group_id\s*=\s*aws_security_group\.task\.id/m.test(m[2] ?? ""));
    expect(taskIngress.map((m) => m[1])).toEqual(["task_from_alb"]);
    expect(taskIngress[0]?.[2]).toMatch(/from_port\s*=\s*8080[\s\S]*to_port\s*=\s*8080/);
    expect(taskIngress[0]?.[2]).toMatch(/referenced_security_group_id\s*=\s*var\.alb_security_group_id/);
  });
});
