/** Reads a user's standing from `GET /_keygate/usage` (the key API's usage report). */

export interface UsageEntry {
  readonly limit: string;
  readonly kind: "requests" | "tokens" | "concurrent";
  readonly quota: number;
  readonly remaining: number;
  readonly resetS: number;
}

/**
 * Remaining units of one limit's counter for the user behind `jwt`.
 * @example expect(await remaining(env.ingress, user.jwt, "tok", "tokens")).toBe(805);
 */
export async function remaining(
  ingress: string,
  jwt: string,
  limit: string,
  kind: UsageEntry["kind"],
): Promise<number> {
  const res = await fetch(`${ingress}/_keygate/usage`, { headers: { authorization: `Bearer ${jwt}` } });
  if (res.status !== 200) throw new Error(`GET /_keygate/usage answered ${res.status}: ${await res.text()}`);
  const { limits } = (await res.json()) as { limits: UsageEntry[] };
  const entry = limits.find((e) => e.limit === limit && e.kind === kind);
  if (!entry) throw new Error(`no ${kind} entry for ${limit} in ${JSON.stringify(limits)}`);
  return entry.remaining;
}
