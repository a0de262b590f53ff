/**
 * Tickets: what a passing request holds after `check` — the token
 * reservations (with the window each was made in) and the concurrency leases —
 * and the settle/renew/release operations on them. A ticket remembers which
 * store it came from, so a reservation made locally during an outage settles
 * locally too.
 */
import type { Logger } from "pino";
import type { TokenKind } from "../../policies/types.ts";
import type { Ticket } from "./decision.ts";
import type { StoreHealth } from "./store-health.ts";
import type { Adjustment, Counter, CounterState, LeaseKey, QuotaStore } from "./types.ts";

interface Reservation {
  readonly key: string;
  readonly tag: string;
  readonly start: number;
  readonly reserved: number;
  readonly count: readonly TokenKind[];
}

/** Real usage for settlement: one number for every limit, or per the limit's `count:` kinds. */
export type ActualTokens = number | ((count: readonly TokenKind[]) => number);

const DEFAULT_COUNT: readonly TokenKind[] = ["input", "output"];

interface Held extends Ticket {
  readonly store: QuotaStore;
  readonly reservations: readonly Reservation[];
  readonly leases: readonly LeaseKey[];
  settled: boolean;
  released: boolean;
}

const isHeld = (t: Ticket): t is Held => "store" in t && "reservations" in t;

export function createTickets(deps: {
  health: StoreHealth;
  logger: Logger;
  shared: QuotaStore;
  leaseTtlMs: number;
}) {
  const { health, logger, shared, leaseTtlMs } = deps;

  /** Runs a store call that must not throw: failures are counted (shared store) and logged. */
  async function quietly(op: string, store: QuotaStore, work: () => Promise<void>): Promise<void> {
    try {
      await work();
      if (store === shared) health.succeeded();
    } catch (err) {
      if (store === shared) health.failed(op, err);
      else logger.error({ err, op }, "local quota store call failed");
    }
  }

  return {
    issue(
      id: string,
      store: QuotaStore,
      counters: readonly Counter[],
      states: readonly CounterState[],
    ): Ticket {
      const reservations: Reservation[] = [];
      const leases: LeaseKey[] = [];
      counters.forEach((c, i) => {
        const s = states[i]!;
        if (!s.fits) return;
        if (c.kind === "t")
          reservations.push({
            key: c.key,
            tag: c.tag,
            start: s.start,
            reserved: c.cost,
            count: c.count ?? DEFAULT_COUNT,
          });
        else if (c.kind === "c") leases.push({ key: c.key, tag: c.tag });
      });
      const held: Held = { id, store, reservations, leases, settled: false, released: leases.length === 0 };
      return held;
    },

    /** Applies `actual - reserved` to each reservation's own window, once per ticket. */
    async settle(ticket: Ticket, actual: ActualTokens): Promise<void> {
      const tokensFor = typeof actual === "number" ? () => actual : actual;
      const checked = (count: readonly TokenKind[]): number => {
        const n = tokensFor(count);
        if (!Number.isSafeInteger(n) || n < 0)
          throw new RangeError(`actualTokens must be a whole number ≥ 0, got ${n}`);
        return n;
      };
      if (typeof actual === "number") checked(DEFAULT_COUNT);
      if (!isHeld(ticket) || ticket.settled) return;
      ticket.settled = true;
      const adjustments: Adjustment[] = [];
      for (const r of ticket.reservations) {
        const delta = checked(r.count) - r.reserved;
        if (delta !== 0) adjustments.push({ key: r.key, tag: r.tag, start: r.start, delta });
      }
      if (adjustments.length > 0)
        await quietly("settle", ticket.store, () => ticket.store.adjust(adjustments));
    },

    async renew(ticket: Ticket): Promise<void> {
      if (!isHeld(ticket) || ticket.released) return;
      await quietly("renew", ticket.store, () => ticket.store.renew(ticket.leases, ticket.id, leaseTtlMs));
    },

    async release(ticket: Ticket): Promise<void> {
      if (!isHeld(ticket) || ticket.released) return;
      ticket.released = true;
      await quietly("release", ticket.store, () => ticket.store.release(ticket.leases, ticket.id));
    },
  };
}
