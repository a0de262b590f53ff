/**
 * Tickets: what a passing request holds after `check` — the token
 * reservations (with the window each was made in) and the concurrency leases —
 * and the settle/renew/release operations on them. A ticket remembers which
 * store holds each counter, so a reservation made locally during an outage
 * settles locally too — on a cluster one request may hold counters in both.
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

/** What a ticket holds in one store. */
interface Holding {
  readonly store: QuotaStore;
  readonly reservations: Reservation[];
  readonly leases: LeaseKey[];
}

interface Held extends Ticket {
  /** One per store holding something: the shared store's first. */
  readonly holdings: readonly Holding[];
  settled: boolean;
  released: boolean;
}

const isHeld = (t: Ticket): t is Held => "holdings" in t;

export function createTickets(deps: {
  /** The single Redis's health; absent on a cluster, where the store tracks each master itself. */
  health: StoreHealth | undefined;
  logger: Logger;
  shared: QuotaStore;
  insurance: QuotaStore | undefined;
  leaseTtlMs: number;
}) {
  const { health, logger, shared, insurance, leaseTtlMs } = deps;

  /** Runs a store call that must not throw: failures are counted (shared store) and logged (insurance). */
  async function quietly(op: string, store: QuotaStore, work: () => Promise<void>): Promise<void> {
    try {
      await work();
      if (store === shared) health?.succeeded();
    } catch (err) {
      if (store === shared) health?.failed(op, err);
      else logger.error({ err, op }, "local quota store call failed");
    }
  }

  return {
    /** `local`: the counters held by the insurance store (see failover.ts). */
    issue(
      id: string,
      counters: readonly Counter[],
      states: readonly CounterState[],
      local: ReadonlySet<Counter>,
    ): Ticket {
      const onShared: Holding = { store: shared, reservations: [], leases: [] };
      const onLocal: Holding | undefined =
        local.size > 0 && insurance ? { store: insurance, reservations: [], leases: [] } : undefined;
      counters.forEach((c, i) => {
        const s = states[i]!;
        if (!s.fits) return;
        const { reservations, leases } = onLocal && local.has(c) ? onLocal : onShared;
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
      const holdings = onLocal ? [onShared, onLocal] : [onShared];
      const released = holdings.every((h) => h.leases.length === 0);
      const held: Held = { id, holdings, settled: false, released };
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
      // Every amount is checked before any store call, so a bad one changes nothing.
      const perStore = ticket.holdings.map(({ reservations }) => {
        const adjustments: Adjustment[] = [];
        for (const r of reservations) {
          const delta = checked(r.count) - r.reserved;
          if (delta !== 0) adjustments.push({ key: r.key, tag: r.tag, start: r.start, delta });
        }
        return adjustments;
      });
      ticket.settled = true;
      await Promise.all(
        ticket.holdings.map(({ store }, i) => {
          const adjustments = perStore[i]!;
          return adjustments.length === 0
            ? undefined
            : quietly("settle", store, () => store.adjust(adjustments));
        }),
      );
    },

    async renew(ticket: Ticket): Promise<void> {
      if (!isHeld(ticket) || ticket.released) return;
      await Promise.all(
        ticket.holdings.map(({ store, leases }) =>
          leases.length === 0
            ? undefined
            : quietly("renew", store, () => store.renew(leases, ticket.id, leaseTtlMs)),
        ),
      );
    },

    async release(ticket: Ticket): Promise<void> {
      if (!isHeld(ticket) || ticket.released) return;
      ticket.released = true;
      await Promise.all(
        ticket.holdings.map(({ store, leases }) =>
          leases.length === 0 ? undefined : quietly("release", store, () => store.release(leases, ticket.id)),
        ),
      );
    },
  };
}
