import { randomUUID } from "node:crypto";
import type { QueryResultRow } from "pg";
import { ConcurrencyError, DomainError, ErrorCode, UnavailableError } from "../core/errors";
import { type CommandAppend, commandParams, commandResults, GROUP_APPEND_SQL, type GroupAppendOutcome, type GroupAppendRow } from "./commandGroupAppend";
import type { EventRegistry } from "./eventRegistry";
import { type LogPosition, LOG_START } from "./logPosition";
import { replicationLagSeconds } from "./replicationLag";
import { SnapshotStore, type Snapshot } from "./snapshots";
import type {
  AppendResult,
  ExpectedVersion,
  NewEvent,
  ReadAllResult,
  RecordedEvent,
  StreamRange,
} from "./types";

export interface AppendOptions {
  /** Makes the append idempotent: a second append with this id returns the first result. */
  commandId?: string;
  /** Recorded with the result, so a resend can be checked against the first use of the key. */
  actor?: string;
  /** Hash of the command's type, target and payload (see aggregate/idempotency.ts). */
  fingerprint?: string;
}

export interface AppendOutcome extends AppendResult {
  /** True when `commandId` had already been applied and nothing was appended. */
  duplicate: boolean;
  /** Types of the events the command appended (the first time, for a duplicate). */
  eventTypes: string[];
}

/**
 * One statement does the whole append: guard the expected version, insert the
 * events with consecutive versions, and record the command's result. A single
 * statement is atomic without BEGIN/COMMIT round trips, and the unique
 * (stream_id, stream_version) constraint settles races the guard cannot see.
 */
const APPEND_SQL = `
WITH current_version AS (
  SELECT coalesce(max(stream_version), 0) AS v FROM events WHERE stream_id = $1
), guard AS (
  SELECT v FROM current_version WHERE $2::int IS NULL OR v = $2::int
), inserted AS (
  INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
  SELECT e.event_id, $1, guard.v + e.ord, e.type, e.schema_version, e.data, e.metadata
  FROM guard, unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
    WITH ORDINALITY AS e(event_id, type, schema_version, data, metadata, ord)
  RETURNING stream_version, global_position
), summary AS (
  SELECT max(stream_version) AS stream_version, max(global_position) AS global_position,
         pg_current_xact_id()::text AS transaction_id
  FROM inserted HAVING count(*) > 0
), recorded AS (
  INSERT INTO command_results (command_id, stream_id, actor, fingerprint, result)
  SELECT $8, $1, $9, $10, jsonb_build_object(
    'streamVersion', stream_version, 'globalPosition', global_position::text, 'transactionId', transaction_id,
    'eventTypes', to_jsonb($4::text[]))
  FROM summary WHERE $8::text IS NOT NULL
)
SELECT summary.*, (SELECT v FROM current_version) AS current_version
FROM (SELECT 1) AS one LEFT JOIN summary ON true`;

// transaction_id is selected as text; ORDER BY must name the table's column
// (events.transaction_id), or it would sort by the text alias: "99999" > "100000".
const EVENT_COLUMNS = `event_id, stream_id, stream_version, global_position, transaction_id::text AS transaction_id,
  type, schema_version, data, metadata`;

const READ_ALL_SQL = `
SELECT ${EVENT_COLUMNS} FROM events
WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY events.transaction_id, events.global_position
LIMIT $3`;

interface EventRow extends QueryResultRow {
  event_id: string;
  stream_id: string;
  stream_version: number;
  global_position: string;
  transaction_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: RecordedEvent["metadata"];
}

interface StoredCommandResult {
  streamVersion: number;
  globalPosition: string;
  transactionId: string;
  eventTypes?: string[];
}

/** A command applied earlier: where its events landed, which they were, and who sent what (null before migration 5). */
export interface CommandRecord extends AppendResult {
  eventTypes: string[];
  actor: string | null;
  fingerprint: string | null;
}

export interface LogLag {
  /** Position of the last event a reader can see (LOG_START for an empty log). */
  head: LogPosition;
  /** Events after the checkpoint, counted up to a cap. */
  events: number;
  /** `recordedAt` of the first event after the checkpoint, or null when caught up. */
  oldestRecordedAt: string | null;
}

import type { Queryable } from "./queryable";

export type { Queryable };

const ANY_VERSION_ATTEMPTS = 5;

// The snapshot (if one of this state version exists) and the events after it, in one round trip:
// a stream without a snapshot costs what readStream costs.
const READ_FROM_SNAPSHOT_SQL = `
WITH snap AS (SELECT stream_version, state FROM snapshots WHERE stream_id = $1 AND state_version = $2)
SELECT true AS is_snapshot, stream_version, state AS data, NULL::uuid AS event_id, NULL::text AS stream_id,
  NULL::bigint AS global_position, NULL::text AS transaction_id, NULL::text AS type, NULL::int AS schema_version,
  NULL::jsonb AS metadata
FROM snap
UNION ALL
SELECT false, stream_version, data, event_id, stream_id, global_position, transaction_id::text, type, schema_version, metadata
FROM events WHERE stream_id = $1 AND stream_version > coalesce((SELECT stream_version FROM snap), 0)
ORDER BY is_snapshot DESC, stream_version`;

export interface EventStoreOptions {
  /**
   * Event schemas: appends are validated against them (INVALID_EVENT, nothing
   * written) and reads upcast old versions to current ones. Without one,
   * events are stored and read as they are.
   */
  registry?: EventRegistry;
  /** Told of every append that wrote events; for metrics and logs. */
  observer?: AppendObserver;
  /**
   * Where the log readers query (readAll, countVisibleEvents, lagBehind): a
   * pool on a hot standby (DATABASE_READ_URL). Appends and stream reads stay
   * on `db`, the primary. Default: `db`.
   */
  reader?: Queryable;
}

/** Told of every append that wrote events (not of duplicates); for metrics and logs. Must not throw. */
export interface AppendObserver {
  appended(append: { streamId: string; events: readonly NewEvent[]; result: AppendOutcome }): void;
}

export class EventStore {
  readonly registry: EventRegistry | undefined;
  readonly snapshots: SnapshotStore;
  private readonly observer: AppendObserver | undefined;
  private readonly reader: Queryable;

  constructor(
    private readonly db: Queryable,
    options: EventStoreOptions = {},
  ) {
    this.registry = options.registry;
    this.observer = options.observer;
    this.reader = options.reader ?? db;
    this.snapshots = new SnapshotStore(db);
  }

  async append(
    streamId: string,
    expected: ExpectedVersion,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.appendOnce(streamId, expected, events, options);
        if (!result.duplicate) this.observer?.appended({ streamId, events, result });
        return result;
      } catch (error) {
        // "any" promises to append wherever the stream ends, so losing a race is not the caller's problem.
        if (expected !== "any" || !(error instanceof ConcurrencyError) || attempt >= ANY_VERSION_ATTEMPTS) throw error;
      }
    }
  }

  private async appendOnce(
    streamId: string,
    expected: ExpectedVersion,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendOutcome> {
    if (events.length === 0) {
      throw new DomainError(ErrorCode.VALIDATION, "append needs at least one event", { streamId });
    }
    const params = [
      streamId,
      expected === "any" ? null : expected === "no_stream" ? 0 : expected,
      ...this.eventParams(events),
      options.commandId ?? null,
      options.actor ?? null,
      options.fingerprint ?? null,
    ];
    let row: QueryResultRow | undefined;
    try {
      // A named (prepared) statement: planning this statement costs more than running it,
      // so parsing and planning it on every append halved append throughput (BENCHMARKS.md).
      row = (await this.query(APPEND_SQL, params, "eventline_append")).rows[0];
    } catch (error) {
      const constraint = (error as { constraint?: string }).constraint;
      if (constraint === "events_stream_version_unique") throw new ConcurrencyError(streamId, expected);
      if (constraint === "command_results_pkey" && options.commandId) {
        const first = await this.findCommandResult(options.commandId);
        if (first) return { ...first, eventTypes: first.eventTypes, duplicate: true };
      }
      if (constraint === "events_event_id_unique") {
        throw new DomainError(ErrorCode.ALREADY_EXISTS, "an event with this event id is already stored", { streamId });
      }
      throw error;
    }
    if (!row || row.stream_version === null) {
      throw new ConcurrencyError(streamId, `${String(expected)}, found ${String(row?.current_version)}`);
    }
    return {
      streamId,
      streamVersion: Number(row.stream_version),
      globalPosition: BigInt(row.global_position),
      position: { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) },
      duplicate: false,
      eventTypes: events.map((e) => e.type),
    };
  }

  /** The event-side parameters ($3..$7) of an append. */
  private eventParams(events: readonly NewEvent[]): unknown[] {
    // Checked before anything is sent: an invalid event is a bug in its producer and must never reach the log.
    const registry = this.registry;
    const versions = registry
      ? events.map((e) => registry.validate(e.type, e.schemaVersion, e.data))
      : events.map((e) => e.schemaVersion ?? 1);
    const recordedAt = new Date().toISOString();
    return [
      events.map((e) => e.eventId ?? randomUUID()),
      events.map((e) => e.type),
      versions,
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => JSON.stringify({ ...e.metadata, recordedAt: e.metadata.recordedAt ?? recordedAt })),
    ];
  }

  /**
   * Group commit: several commands' events appended to one stream in one
   * statement, with one expected-version check, and each command's result
   * recorded under its own commandId in the same transaction. Every command
   * must bring at least one event. Throws CONCURRENCY_CONFLICT when the
   * stream is not at `expected`; nothing is appended then.
   */
  async appendCommands(streamId: string, expected: number, commands: readonly CommandAppend[]): Promise<GroupAppendOutcome> {
    if (commands.length === 0 || commands.some((c) => c.events.length === 0)) {
      throw new DomainError(ErrorCode.VALIDATION, "a group append needs at least one event per command", { streamId });
    }
    const events = commands.flatMap((c) => c.events);
    const params = [streamId, expected, ...this.eventParams(events), ...commandParams(commands)];
    let rows: GroupAppendRow[];
    try {
      rows = (await this.query<GroupAppendRow>(GROUP_APPEND_SQL, params, "eventline_append_group")).rows;
    } catch (error) {
      const constraint = (error as { constraint?: string }).constraint;
      if (constraint === "events_stream_version_unique") throw new ConcurrencyError(streamId, expected);
      if (constraint === "command_results_pkey") return { kind: "duplicate" };
      if (constraint === "events_event_id_unique") {
        throw new DomainError(ErrorCode.ALREADY_EXISTS, "an event with this event id is already stored", { streamId });
      }
      throw error;
    }
    const first = rows[0];
    if (!first || first.stream_version === null) {
      throw new ConcurrencyError(streamId, `${expected}, found ${String(first?.current_version)}`);
    }
    const results = commandResults(streamId, expected, commands, rows);
    const last = results.at(-1)!;
    this.observer?.appended({ streamId, events, result: { ...last, duplicate: false, eventTypes: events.map((e) => e.type) } });
    return { kind: "appended", results };
  }

  /** The results recorded for those of `commandIds` already applied, by commandId. */
  async findCommandResults(commandIds: readonly string[]): Promise<Map<string, CommandRecord>> {
    const { rows } = await this.query("SELECT command_id, stream_id, actor, fingerprint, result FROM command_results WHERE command_id = ANY($1)", [
      commandIds,
    ]);
    return new Map(rows.map((row) => [row.command_id as string, toCommandRecord(row)]));
  }

  /** The result recorded for a command that was already applied, if any. */
  async findCommandResult(commandId: string): Promise<CommandRecord | null> {
    const { rows } = await this.query("SELECT stream_id, actor, fingerprint, result FROM command_results WHERE command_id = $1", [
      commandId,
    ]);
    const row = rows[0];
    return row ? toCommandRecord(row) : null;
  }

  async readStream(streamId: string, range: StreamRange = {}): Promise<RecordedEvent[]> {
    const { rows } = await this.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE stream_id = $1 AND stream_version >= $2 AND stream_version <= $3
       ORDER BY stream_version`,
      [streamId, range.fromVersion ?? 1, range.toVersion ?? 2_147_483_647],
    );
    return rows.map((row) => this.toRecordedEvent(row));
  }

  /**
   * The stream as the latest snapshot taken under `stateVersion` left it,
   * plus every event after that snapshot (the whole stream when there is none).
   */
  async readStreamFromSnapshot(streamId: string, stateVersion: string): Promise<{ snapshot: Snapshot | null; events: RecordedEvent[] }> {
    const { rows } = await this.query<EventRow & { is_snapshot: boolean }>(
      READ_FROM_SNAPSHOT_SQL,
      [streamId, stateVersion],
      "eventline_read_from_snapshot",
    );
    const first = rows[0];
    const snapshot = first?.is_snapshot ? { streamVersion: first.stream_version, state: first.data } : null;
    const events = (snapshot ? rows.slice(1) : rows).map((row) => this.toRecordedEvent(row));
    return { snapshot, events };
  }

  /**
   * Reads the log in commit order after `checkpoint`. Only transactions older
   * than every transaction still running are returned, so an event can never
   * be committed later behind the returned checkpoint. On a hot standby the
   * same holds: its snapshot counts every transaction the primary had open in
   * the WAL it replayed (pg_current_xact_id(), which a standby refuses, is not used).
   */
  async readAll(checkpoint: LogPosition = LOG_START, limit = 500): Promise<ReadAllResult> {
    const { rows } = await this.query<EventRow>(
      READ_ALL_SQL,
      [checkpoint.transactionId.toString(), checkpoint.globalPosition.toString(), limit],
      undefined,
      this.reader,
    );
    const events = rows.map((row) => this.toRecordedEvent(row));
    const last = events.at(-1);
    return { events, checkpoint: last ? last.position : checkpoint };
  }

  /** How many events a log reader can see now: the length of the log, for progress bars. */
  async countVisibleEvents(): Promise<number> {
    const { rows } = await this.query<{ n: string }>(
      "SELECT count(*) AS n FROM events WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())",
      [],
      undefined,
      this.reader,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * The head of the readable log and how far `checkpoint` is behind it: the
   * events after it (counted up to `cap`, so a far-behind reader costs a
   * bounded scan) and when the oldest of them was recorded.
   */
  async lagBehind(checkpoint: LogPosition, cap = 100_000): Promise<LogLag> {
    const { rows } = await this.query<{ head_tx: string | null; head_pos: string | null; pending: string; oldest: string | null }>(
      `WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
       after AS (
         SELECT events.transaction_id, events.global_position, events.metadata FROM events, horizon
         WHERE (events.transaction_id, events.global_position) > ($1::text::xid8, $2::bigint) AND events.transaction_id < horizon.xmin
         ORDER BY events.transaction_id, events.global_position LIMIT $3)
       SELECT
         (SELECT e.transaction_id::text FROM events e, horizon WHERE e.transaction_id < horizon.xmin
            ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1) AS head_tx,
         (SELECT e.global_position::text FROM events e, horizon WHERE e.transaction_id < horizon.xmin
            ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1) AS head_pos,
         (SELECT count(*) FROM after) AS pending,
         (SELECT a.metadata->>'recordedAt' FROM after a ORDER BY a.transaction_id, a.global_position LIMIT 1) AS oldest`,
      [checkpoint.transactionId.toString(), checkpoint.globalPosition.toString(), cap],
      undefined,
      this.reader,
    );
    const row = rows[0]!;
    const head = row.head_tx && row.head_pos ? { transactionId: BigInt(row.head_tx), globalPosition: BigInt(row.head_pos) } : LOG_START;
    return { head, events: Number(row.pending), oldestRecordedAt: row.oldest };
  }

  /** Seconds the log readers' server is behind the primary; 0 without a separate reader. */
  async replicationLagSeconds(): Promise<number> {
    try {
      return await replicationLagSeconds(this.db, this.reader);
    } catch (error) {
      if (isConnectionError(error)) throw new UnavailableError("PostgreSQL", error);
      throw error;
    }
  }

  /**
   * `name` makes it a prepared statement, parsed once per connection and planned by PostgreSQL's plan cache.
   * `on`: the primary (default) or the log readers' pool.
   */
  private async query<R extends QueryResultRow = QueryResultRow>(sql: string, params: unknown[] = [], name?: string, on = this.db) {
    try {
      return await (name ? on.query<R>({ name, text: sql, values: params }) : on.query<R>(sql, params));
    } catch (error) {
      if (isConnectionError(error)) throw new UnavailableError("PostgreSQL", error);
      throw error;
    }
  }

  private toRecordedEvent(row: EventRow): RecordedEvent {
    const event = toRecordedEvent(row);
    return this.registry ? this.registry.upcast(event) : event;
  }
}

function toCommandRecord(row: QueryResultRow): CommandRecord {
  const result = row.result as StoredCommandResult;
  return {
    streamId: row.stream_id as string,
    streamVersion: result.streamVersion,
    globalPosition: BigInt(result.globalPosition),
    position: { transactionId: BigInt(result.transactionId), globalPosition: BigInt(result.globalPosition) },
    eventTypes: result.eventTypes ?? [],
    actor: (row.actor as string | null) ?? null,
    fingerprint: (row.fingerprint as string | null) ?? null,
  };
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  const globalPosition = BigInt(row.global_position);
  return {
    eventId: row.event_id,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    globalPosition,
    position: { transactionId: BigInt(row.transaction_id), globalPosition },
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
  };
}

const CONNECTION_ERROR_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "57P01", "57P03", "08006", "08001", "08003"]);

/** A failure to reach PostgreSQL (as opposed to a statement it refused). */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  if (code && CONNECTION_ERROR_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : "";
  return /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Query read timeout|is not queryable|Client was closed/i.test(message);
}
