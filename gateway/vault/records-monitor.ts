import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";
import type { VaultStats } from "./store.ts";

const CHECK_EVERY_MS = 60_000;

/**
 * Exports the shared vault's record count (`keygate_vault_records`) and says
 * loudly when a vault that has held keys is empty, or when its marker
 * vanished under a running instance: Redis lost data (a failover to an empty
 * replica, a restore, a FLUSHALL), and users will start seeing
 * `provider_key_missing`. See docs/operations.md §3.
 */
export async function monitorVaultRecords(deps: {
  stats: () => Promise<VaultStats>;
  metrics: Pick<Metrics, "vaultRecords">;
  logger: Logger;
}): Promise<{ close(): void }> {
  let sawRecords = false;
  let warned = false;
  const check = async () => {
    let stats: VaultStats;
    try {
      stats = await deps.stats();
    } catch {
      return; // store outages are reported by the store's own metrics
    }
    deps.metrics.vaultRecords.set(stats.records);
    const lost = (stats.heldRecords && stats.records <= 0) || (sawRecords && !stats.heldRecords);
    sawRecords ||= stats.heldRecords;
    if (lost && !warned) {
      deps.logger.error(
        { records: stats.records },
        "the vault is empty although it has held keys: if users did not remove them all, Redis lost data — restore from a snapshot (docs/operations.md)",
      );
    }
    warned = lost;
  };
  // The first count is in place before the gateway reports itself listening.
  await check();
  const timer = setInterval(() => void check(), CHECK_EVERY_MS);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
