import type { QueryResultRow } from "pg";
import { ConcurrencyError, DomainError, ErrorCode, UnavailableError } from "../core/errors";
import { type CommandAppend, commandParams, commandResults, GROUP_APPEND_SQL, type GroupAppendOutcome, type GroupAppendRow } from "./commandGroupAppend";
import type { EventRegistry } from "./eventRegistry";
import { type LogPosition, LOG_START } from "./logPosition";
import { replicationLagSeconds } from "./replicationLag";
import { type CommandRecord, eventParams, type EventRow, toCommandRecord, toRecordedEvent } from "./rows";
import { APPEND_SQL, EVENT_COLUMNS, READ_ALL_SQL, READ_FROM_SNAPSHOT_SQL } from "./statements";
import { isConnectionError } from "./connectionErrors";

export type { CommandRecord };
export { isConnectionError };
import { SnapshotStore, type Snapshot } from "./snapshots";
import type { ExpectedVersion, NewEvent, ReadAllResult, RecordedEvent, StreamRange } from "./types";
import type { AppendObserver, AppendOptions, AppendOutcome, LogLag } from "./appendTypes";

export type { AppendObserver, AppendOptions, AppendOutcome, LogLag };

import type { Queryable } from "./queryable";

export type { Queryable };

/**
 * An "any" append loses a race only to an append to the same stream that committed (the unique index makes the
 * loser wait for the winner), so N concurrent writers to one stream need at most N attempts. Five was too few for a
 * burst of ten (a CI run lost one); the bound now only stops a writer starved by an endless line of others.
 */
const ANY_VERSION_ATTEMPTS = 100;

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
      ...eventParams(this.registry, events),
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
    const params = [streamId, expected, ...eventParams(this.registry, events), ...commandParams(commands)];
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

  /** True when the log readers query another server than appends (a hot standby, DATABASE_READ_URL). */
  get readsFromStandby(): boolean {
    return this.reader !== this.db;
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

