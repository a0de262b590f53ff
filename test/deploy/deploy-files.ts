/**
 * Readers for the deploy artefacts the tests check: the Dockerfile as a list
 * of instructions, the standalone ECS task definition, the CloudWatch agent
 * config and the Terraform sources.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DEPLOY_DIR } from "./metric-names.ts";

export const REPO_DIR = resolve(DEPLOY_DIR, "..");

export async function readRepo(path: string): Promise<string> {
  return readFile(join(REPO_DIR, path), "utf8");
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readRepo(path)) as T;
}

export interface Instruction {
  /** Upper-cased keyword, e.g. `COPY`. */
  readonly keyword: string;
  /** The rest of the logical line (continuations joined). */
  readonly args: string;
  /** Index of the build stage (each `FROM` starts one). */
  readonly stage: number;
}

/** Parses a Dockerfile: comments dropped, `\` continuations joined, one entry per instruction. */
export function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(pending + line);
    pending = "";
  }
  let stage = -1;
  return logical.map((line) => {
    const space = line.indexOf(" ");
    const keyword = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    if (keyword === "FROM") stage += 1;
    return { keyword, args: space < 0 ? "" : line.slice(space + 1).trim(), stage };
  });
}

/** The JSON array of an exec-form instruction (`["a", "b"]`), or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  const parsed: unknown = JSON.parse(args);
  return Array.isArray(parsed) && parsed.every((p) => typeof p === "string") ? parsed : undefined;
}

export interface ContainerDefinition {
  name: string;
  image: string;
  essential: boolean;
  user?: string;
  readonlyRootFilesystem?: boolean;
  entryPoint?: string[];
  command?: string[];
  portMappings?: { containerPort: number; name?: string }[];
  environment?: { name: string; value: string }[];
  secrets?: { name: string; valueFrom: string }[];
  dependsOn?: { containerName: string; condition: string }[];
  healthCheck?: {
    command: string[];
    interval: number;
    timeout: number;
    retries: number;
    startPeriod: number;
  };
  stopTimeout?: number;
  mountPoints?: { sourceVolume: string; containerPath: string; readOnly: boolean }[];
  logConfiguration?: { logDriver: string; options: Record<string, string> };
}

export interface TaskDefinition {
  networkMode: string;
  requiresCompatibilities: string[];
  volumes: { name: string }[];
  containerDefinitions: ContainerDefinition[];
}

export async function taskDefinition(): Promise<TaskDefinition> {
  return readJson<TaskDefinition>("deploy/ecs/task-definition.json");
}

export function container(td: TaskDefinition, name: string): ContainerDefinition {
  const found = td.containerDefinitions.find((c) => c.name === name);
  if (!found) throw new Error(`task definition has no container ${name}`);
  return found;
}

export function env(c: ContainerDefinition, name: string): string | undefined {
  return c.environment?.find((e) => e.name === name)?.value;
}

/** `${NAME}` placeholders in a template (Terraform templatefile / envsubst syntax). */
export function placeholders(text: string): Set<string> {
  return new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] as string));
}

/**
 * The variable names Terraform passes to `templatefile("…/<file>", { … })`:
 * the keys of the object literal that follows the file name.
 */
export function templatefileKeys(hcl: string, file: string): Set<string> {
  const at = hcl.indexOf(`${file}", {`);
  if (at < 0) throw new Error(`no templatefile call for ${file}`);
  const open = hcl.indexOf("{", at);
  let depth = 0;
  let end = open;
  for (; end < hcl.length; end++) {
    if (hcl[end] === "{") depth++;
    if (hcl[end] === "}" && --depth === 0) break;
  }
  const body = hcl.slice(open + 1, end);
  return new Set([...body.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)].map((m) => m[1] as string));
}
