import { Cluster } from "ioredis";
import type { RedisConnection } from "../store/redis.ts";

/** Redis channel on which instances announce a changed (user, provider) key. */
export const VAULT_CHANGES_CHANNEL = "kg:v:changes";

/**
 * Tells every keygate instance that a user's stored key changed, so their
 * ciphertext caches drop it at once instead of serving the old key until the
 * cache entry expires.
 */
export interface ChangeFeed {
  publish(user: string, provider: string): void;
  /** `onChange` per announced key; `onGap` when announcements may have been missed (reconnect). */
  subscribe(onChange: (user: string, provider: string) => void, onGap: () => void): void;
  close(): void;
}

/**
 * Pub/sub over the shared Redis (a Cluster broadcasts PUBLISH to every node).
 * A lost announcement (subscriber disconnected) is covered by clearing the
 * whole cache on every (re)subscribe; the cache TTL bounds anything else.
 */
export function createRedisChangeFeed(redis: RedisConnection): ChangeFeed {
  // A subscribed connection can issue no other commands: it needs its own.
  const subscriber: RedisConnection = redis instanceof Cluster ? redis.duplicate() : redis.duplicate();
  // Outages surface through the main connection's metrics and logs; an unhandled `error` event would print raw to stderr.
  subscriber.on("error", () => {});
  return {
    publish(user, provider) {
      // The key is already stored; a failed announcement only delays other instances by the cache TTL.
      redis.publish(VAULT_CHANGES_CHANNEL, JSON.stringify([user, provider])).catch(() => {});
    },
    subscribe(onChange, onGap) {
      subscriber.on("message", (channel: string, message: string) => {
        if (channel !== VAULT_CHANGES_CHANNEL) return;
        try {
          const [user, provider] = JSON.parse(message) as [unknown, unknown];
          if (typeof user === "string" && typeof provider === "string") onChange(user, provider);
        } catch {
          onGap();
        }
      });
      // The offline queue is off, so SUBSCRIBE is sent once connected — and again after every reconnect.
      subscriber.on("ready", () => {
        onGap();
        subscriber.subscribe(VAULT_CHANGES_CHANNEL).catch(onGap);
      });
    },
    close() {
      subscriber.disconnect();
    },
  };
}
