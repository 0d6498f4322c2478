import { performance } from "node:perf_hooks";
import { errorMessage } from "../core/errors";
import type { Queryable } from "../eventstore/queryable";
import { assign } from "./assignment";
import { LeaseStore, unitKey, type WorkUnit } from "./leaseStore";
import type { ProcessorLog } from "./types";
import { UnitLease } from "./unitLease";

export const DEFAULT_LEASE_PERIOD_MS = 5000;

export interface LeaseOptions {
  /** Replicas of the same role share its units: "projector", "saga", a service's name. */
  group: string;
  /** Unique per process (two pods sharing an ordinal during a roll-out are still two owners). */
  member: string;
  /** A lease (and a membership) lapses this long after its last renewal; renewed every third of it. */
  periodMs: number;
  /** A StatefulSet's pod ordinal: assign by ordinal rather than by rendezvous hashing alone. */
  ordinal: number | null;
  /** With `ordinal`: how many pods there are (0: as many as the highest live ordinal says). */
  replicas: number;
}

export type LeaseChange = "acquired" | "released" | "lost";

/** What the coordinator tells the role: a unit changed hands here (wake its driver, log, update metrics). */
export type LeaseListener = (unit: WorkUnit, change: LeaseChange, token: number) => void;

/** Quickest re-check while a unit this replica should own is still held elsewhere (a hand-off in progress). */
const HANDOFF_POLL_MS = 200;
const MIN_TICK_MS = 20;

/**
 * One replica's side of the leases of one group: every third of a period it
 * beats (heartbeat and renewals in one statement), reads the live members
 * and the leases, computes the assignment (assignment.ts), acquires what it
 * should own, and hands off what it should not: the unit stops taking
 * batches, its running batch finishes, and the lease is released at that
 * checkpoint, for the new owner to acquire with token + 1. A replica that
 * dies without releasing loses its leases when they lapse; the others then
 * look again at the moment the lease ends, so a unit is taken over within
 * one lease period.
 */
export class LeaseCoordinator {
  private readonly store: LeaseStore;
  private readonly leases = new Map<string, UnitLease>();
  private readonly listeners: LeaseListener[] = [];
  private readonly handOffs = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  private lastError: string | null = null;

  constructor(
    db: Queryable,
    readonly options: LeaseOptions,
    private readonly log: ProcessorLog & { info?(message: string): void },
  ) {
    this.store = new LeaseStore(db);
  }

  get member(): string {
    return this.options.member;
  }

  /** Registers a unit this role can run; its lease is taken when the assignment gives it here. */
  lease(unit: WorkUnit): UnitLease {
    const key = unitKey(unit);
    let lease = this.leases.get(key);
    if (!lease) this.leases.set(key, (lease = new UnitLease(unit)));
    return lease;
  }

  onChange(listener: LeaseListener): void {
    this.listeners.push(listener);
  }

  /** The units held here now, with their tokens. */
  held(): Array<WorkUnit & { token: number }> {
    return [...this.leases.values()].filter((l) => l.state !== "free").map((l) => ({ ...l.unit, token: l.token }));
  }

  /** Joins the group and takes its first share before returning, so drivers start on what is theirs. */
  async start(): Promise<void> {
    await this.runTick();
  }

  /** Hands every unit off at its next checkpoint and leaves the group, so the others take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    for (const lease of this.leases.values()) if (lease.state === "held") this.handOff(lease);
    await Promise.all(this.handOffs);
    await this.store.leave(this.options.group, this.member).catch(() => undefined);
  }

  /** Stops renewing without releasing anything, as a process killed with SIGKILL would (tests). */
  halt(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private runTick(): Promise<void> {
    this.ticking = this.tick()
      .then((nextMs) => {
        this.lastError = null;
        return nextMs;
      })
      .catch((error: unknown) => {
        const message = errorMessage(error);
        if (message !== this.lastError) this.log.warn({ group: this.options.group, err: message }, `leases of ${this.options.group}: ${message}; retrying`);
        this.lastError = message;
        return this.renewEveryMs;
      })
      .then((nextMs) => {
        if (!this.stopped) this.timer = setTimeout(() => void this.runTick(), nextMs);
      });
    return this.ticking;
  }

  private get renewEveryMs(): number {
    return Math.max(MIN_TICK_MS, Math.floor(this.options.periodMs / 3));
  }

  /** One round; answers how long to wait before the next. */
  private async tick(): Promise<number> {
    const { group, member, periodMs, ordinal } = this.options;
    const mine = [...this.leases.values()];
    const sentAt = performance.now();
    const renewed = new Set(
      (await this.store.beat(group, member, ordinal, periodMs, this.held())).map(unitKey),
    );
    for (const lease of mine) {
      if (lease.state === "free") continue;
      if (renewed.has(unitKey(lease.unit))) lease.validUntil = this.deadline(sentAt);
      else this.lose(lease);
    }
    if (this.stopped) return this.renewEveryMs;
    const members = await this.store.members(group);
    if (!members.some((m) => m.member === member)) members.push({ member, ordinal, msLeft: periodMs });
    const units = mine.map((l) => l.unit);
    const owners = assign(
      units,
      members.map((m) => ({ id: m.member, ordinal: m.ordinal })),
      { byOrdinal: ordinal === null ? null : { replicas: this.options.replicas } },
    );
    const rows = new Map((await this.store.leases([...new Set(units.map((u) => u.processor))])).map((r) => [unitKey(r), r]));
    let next = this.renewEveryMs;
    for (const m of members) if (m.member !== member) next = Math.min(next, m.msLeft + MIN_TICK_MS);
    for (const lease of mine) {
      const key = unitKey(lease.unit);
      const wanted = owners.get(key) === member;
      if (!wanted) {
        if (lease.state === "held") this.handOff(lease);
        continue;
      }
      if (lease.state !== "free") continue;
      const row = rows.get(key);
      if (row && row.owner !== null && row.owner !== member && row.msLeft > 0) {
        // Its holder is handing it off, or died: look again when it is released or lapses.
        next = Math.min(next, HANDOFF_POLL_MS, row.msLeft + MIN_TICK_MS);
        continue;
      }
      const askedAt = performance.now();
      const token = await this.store.acquire(lease.unit, member, periodMs);
      if (token === null) {
        next = Math.min(next, HANDOFF_POLL_MS);
        continue;
      }
      lease.held(token, this.deadline(askedAt));
      this.emit(lease.unit, "acquired", token);
    }
    return Math.max(MIN_TICK_MS, next);
  }

  /** A lease renewed at `sentAt` lasts until at least sentAt + period by the database's clock; stop a tenth early. */
  private deadline(sentAt: number): number {
    return sentAt + this.options.periodMs - this.options.periodMs / 10;
  }

  private handOff(lease: UnitLease): void {
    lease.state = "releasing";
    const token = lease.token;
    const done = lease
      .idle()
      .then(async () => {
        if (lease.state !== "releasing") return; // lost meanwhile: nothing to release
        try {
          await this.store.release(lease.unit, this.member, token);
        } finally {
          lease.lost();
        }
        this.emit(lease.unit, "released", token);
      })
      .catch((error: unknown) => this.log.warn({ unit: unitKey(lease.unit), err: errorMessage(error) }, `release of ${unitKey(lease.unit)} failed (it lapses instead): ${errorMessage(error)}`))
      .finally(() => this.handOffs.delete(done));
    this.handOffs.add(done);
  }

  private lose(lease: UnitLease): void {
    const token = lease.token;
    lease.lost();
    this.emit(lease.unit, "lost", token);
  }

  /** Called by a step whose commit was FENCED: a newer owner committed, so this one stops now. */
  fenced(lease: UnitLease): void {
    if (lease.state !== "free") this.lose(lease);
  }

  private emit(unit: WorkUnit, change: LeaseChange, token: number): void {
    for (const listener of this.listeners) {
      try {
        listener(unit, change, token);
      } catch (error) {
        this.log.warn({ unit: unitKey(unit), err: errorMessage(error) }, `lease listener failed: ${errorMessage(error)}`);
      }
    }
  }
}
