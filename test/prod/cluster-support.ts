/**
 * Looking inside a test Redis Cluster from the outside: which master owns a
 * key's slot, a user id whose per-user keys land on a chosen master, and the
 * value of a quota counter. Uses its own ioredis client, never the gateway's.
 */
import { Cluster } from "ioredis";
import type { RedisCluster } from "../helpers/redis.ts";

export interface ClusterProbe {
  /** Index in `cluster.nodes` of the master that owns `key`'s slot. */
  ownerOf(key: string): Promise<number>;
  /** The first `prefix-N` user whose quota keys (`kg:q:{u:…}`, or `keyOf(user)`) live on master `node`. */
  userOn(node: number, prefix: string, keyOf?: (user: string) => string): Promise<string>;
  /** A quota counter's used units (`n` of its hash), 0 when absent. */
  used(key: string): Promise<number>;
  /** Whether the vault holds a record for `user` and `provider`. */
  vaultHas(user: string, provider: string): Promise<boolean>;
  close(): void;
}

/** The vault's hash for `user` (one per user, its own hash tag). */
export const vaultKeyOf = (user: string): string => `kg:v:{${encodeURIComponent(user)}}`;

export async function probeCluster(cluster: RedisCluster): Promise<ClusterProbe> {
  const client = new Cluster(
    cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
    { enableOfflineQueue: true },
  );
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    client.once("error", reject);
  });
  const ports = cluster.nodes.map((n) => n.port);

  const ownerOf = async (key: string): Promise<number> => {
    const slot = (await client.cluster("KEYSLOT", key)) as number;
    const nodeKey = client.slots[slot]?.[0];
    const index = ports.findIndex((p) => nodeKey === `127.0.0.1:${p}`);
    if (index < 0) throw new Error(`no master known for slot ${slot} (${nodeKey})`);
    return index;
  };

  return {
    ownerOf,
    async userOn(node, prefix, keyOf = (user) => `kg:q:{u:${user}}:x:r`) {
      for (let i = 0; i < 1_000; i++) {
        const user = `${prefix}-${i}`;
        if ((await ownerOf(keyOf(user))) === node) return user;
      }
      throw new Error(`no user id found on master ${node}`);
    },
    async used(key) {
      return Number((await client.hget(key, "n")) ?? 0);
    },
    async vaultHas(user, provider) {
      return (await client.hexists(vaultKeyOf(user), provider)) === 1;
    },
    close: () => client.disconnect(),
  };
}
