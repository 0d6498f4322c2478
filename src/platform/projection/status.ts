import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { RedisClient } from "../core/redis";
import { errorMessage } from "../core/errors";
import type { EventStore } from "../eventstore/eventStore";
import { formatLogPosition } from "../eventstore/logPosition";
import { parseGeneration, type ReadModelKeys } from "./keys";
import { type ParkedEvent, parseParked, type SkippedEvent } from "./parked";
import { parseCheckpoint } from "../processing/redisCheckpointer";
import type { RebuildProgress } from "./rebuild";

/** Window over which a projector measures its recent rate. */
const RATE_WINDOW_MS = 10_000;

/** A process's rate that was not published again for this long is dropped (the process stopped or lost its lease). */
export const RATE_STALE_MS = 3 * RATE_WINDOW_MS;

/** Status hash fields of one process's own rate: each replica writes its own, the read sums the fresh ones. */
export const rateField = (owner: string) => `rate:${owner}`;
export const rateAtField = (owner: string) => `rateAt:${owner}`;

/**
 * The projector's side of projection status. The API reads only Redis, yet
 * the head of the log lives in PostgreSQL: so the projector, which reads the
 * log anyway, publishes head, lag, rate and last error into a hash per
 * projection after its drains and on every catch-up tick. With N replicas,
 * head, checkpoint and lag are the same whoever publishes them; the rate is
 * each process's own (what it applied), kept under its own field, so one
 * replica's idle rate never overwrites the owner's.
 */
export class StatusPublisher {
  private readonly applied = new Map<string, Array<{ at: number; events: number }>>();
  private readonly lastPublished = new Map<string, number>();
  private readonly startedAt = Date.now();

  constructor(
    private readonly redis: RedisClient,
    private readonly store: EventStore,
    private readonly keys: ReadModelKeys,
    /** Publishes after a drain at most this often; the catch-up tick publishes regardless. */
    private readonly minIntervalMs = 500,
    /** This process, as its rate field names it. */
    readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`,
  ) {}

  recordApplied(projection: string, events: number): void {
    const samples = this.applied.get(projection) ?? [];
    samples.push({ at: Date.now(), events });
    this.applied.set(projection, samples);
  }

  async recordError(projection: string, error: unknown): Promise<void> {
    await this.redis.hset(this.keys.status(projection), { lastError: errorMessage(error), lastErrorAt: new Date().toISOString() });
  }

  /** Publishes unless it did so less than `minIntervalMs` ago (`force` for the periodic tick). */
  async publish(projection: string, force = false, lease: { owner: string; token: number } | null = null): Promise<void> {
    const now = Date.now();
    if (!force && now - (this.lastPublished.get(projection) ?? 0) < this.minIntervalMs) return;
    this.lastPublished.set(projection, now);
    const generation = parseGeneration(await this.redis.get(this.keys.activeGeneration(projection)));
    const checkpoint = parseCheckpoint(await this.redis.get(this.keys.generation(projection, generation).checkpoint));
    const lag = await this.store.lagBehind(checkpoint);
    const key = this.keys.status(projection);
    // Only a projector that reads a standby knows its lag behind the primary; without one the field is absent, not 0.
    if (this.store.readsFromStandby) await this.redis.hset(key, "replicationLagSeconds", await this.store.replicationLagSeconds());
    else await this.redis.hdel(key, "replicationLagSeconds");
    await this.redis.hset(key, {
      head: formatLogPosition(lag.head),
      checkpoint: formatLogPosition(checkpoint),
      lagEvents: lag.events,
      lagMs: lag.oldestRecordedAt ? Math.max(0, now - Date.parse(lag.oldestRecordedAt)) : 0,
      [rateField(this.owner)]: this.rate(projection, now),
      [rateAtField(this.owner)]: now,
      updatedAt: new Date(now).toISOString(),
      // Only the lease owner publishes (decision 0026): who drives the projection now, under which token.
      ...(lease ? { owner: lease.owner, leaseToken: lease.token } : {}),
    });
    const stale = staleOwners(await this.redis.hgetall(key), now);
    if (stale.length > 0) await this.redis.hdel(key, ...stale.flatMap((owner) => [rateField(owner), rateAtField(owner)]));
  }

  private rate(projection: string, now: number): number {
    const samples = (this.applied.get(projection) ?? []).filter((s) => now - s.at <= RATE_WINDOW_MS);
    this.applied.set(projection, samples);
    const window = Math.min(RATE_WINDOW_MS, Math.max(1, now - this.startedAt));
    const events = samples.reduce((sum, s) => sum + s.events, 0);
    return Math.round((events * 1000 * 10) / window) / 10;
  }
}

export interface ProjectionStatusView {
  name: string;
  activeGeneration: number;
  /** Live: read from the active generation now. */
  checkpoint: string;
  /** The rest as last published by a projector (null before the first publication). */
  head: string | null;
  lagEvents: number | null;
  lagMs: number | null;
  eventsPerSecond: number | null;
  /** Seconds the projector's log reader (a hot standby) was behind the primary; null when it reads the primary. */
  replicationLagSeconds: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  statusUpdatedAt: string | null;
  parked: ParkedEvent[];
  /** Parked events an operator skipped, newest first (the last SKIPPED_SHOWN). */
  skipped: SkippedEvent[];
  rebuild: RebuildProgress | null;
  /** The projector replica holding the projection's lease, as it last published (null without leases). */
  owner: string | null;
  leaseToken: number | null;
}

const SKIPPED_SHOWN = 20;

/** The API's side: everything from Redis. */
export async function readProjectionStatus(redis: RedisClient, keys: ReadModelKeys, projection: string): Promise<ProjectionStatusView> {
  const generation = parseGeneration(await redis.get(keys.activeGeneration(projection)));
  const gen = keys.generation(projection, generation);
  const [checkpoint, status, parked, skipped, lock, progress] = await Promise.all([
    redis.get(gen.checkpoint),
    redis.hgetall(keys.status(projection)),
    redis.hvals(gen.parked),
    redis.lrange(keys.skipped(projection), 0, SKIPPED_SHOWN - 1),
    redis.get(keys.rebuildLock(projection)),
    redis.hgetall(keys.rebuildProgress(projection)),
  ]);
  const number = (value: string | undefined) => (value === undefined ? null : Number(value));
  return {
    name: projection,
    activeGeneration: generation,
    checkpoint: formatLogPosition(parseCheckpoint(checkpoint)),
    head: status.head ?? null,
    lagEvents: number(status.lagEvents),
    lagMs: number(status.lagMs),
    eventsPerSecond: summedRate(status, Date.now()),
    replicationLagSeconds: number(status.replicationLagSeconds),
    lastError: status.lastError ?? null,
    lastErrorAt: status.lastErrorAt ?? null,
    statusUpdatedAt: status.updatedAt ?? null,
    parked: parked.map(parseParked).sort((a, b) => a.position.localeCompare(b.position, "en", { numeric: true })),
    skipped: skipped.map((raw) => JSON.parse(raw) as SkippedEvent),
    rebuild: lock && progress.generation ? toProgress(progress) : null,
    owner: status.owner ?? null,
    leaseToken: number(status.leaseToken),
  };
}

/** Owners whose rate was last published more than RATE_STALE_MS ago. */
function staleOwners(status: Record<string, string>, now: number): string[] {
  return Object.entries(status)
    .filter(([field, at]) => field.startsWith("rateAt:") && !(now - Number(at) <= RATE_STALE_MS))
    .map(([field]) => field.slice("rateAt:".length));
}

/** Events per second over every process that published a rate lately; null before any did. */
function summedRate(status: Record<string, string>, now: number): number | null {
  const fresh = Object.entries(status).filter(([field, at]) => field.startsWith("rateAt:") && now - Number(at) <= RATE_STALE_MS);
  if (fresh.length === 0) return null;
  const sum = fresh.reduce((total, [field]) => total + Number(status[rateField(field.slice("rateAt:".length))] ?? 0), 0);
  return Math.round(sum * 10) / 10;
}

function toProgress(raw: Record<string, string>): RebuildProgress {
  return {
    projection: raw.projection ?? "",
    generation: Number(raw.generation),
    fromGeneration: Number(raw.fromGeneration),
    phase: (raw.phase ?? "projecting") as RebuildProgress["phase"],
    applied: Number(raw.applied ?? 0),
    total: Number(raw.total ?? 0),
    startedAt: raw.startedAt ?? "",
    by: raw.by ?? "",
  };
}
