import type { QueryResultRow } from "pg";
import type { AppendResult, NewEvent } from "./types";

/** A row of GROUP_APPEND_SQL: one per inserted event, or one with nulls when the guard failed. */
export interface GroupAppendRow extends QueryResultRow {
  stream_version: number | null;
  global_position: string | null;
  transaction_id: string;
  current_version: number;
}

/** One command's share of a group append: its events and its idempotency record. */
export interface CommandAppend {
  events: readonly NewEvent[];
  commandId: string;
  actor?: string;
  fingerprint?: string;
}

/**
 * What a group append did: every command's result in the order given, or
 * nothing at all because one of the commandIds was already recorded (the
 * caller looks them up and answers those commands with their first result).
 */
export type GroupAppendOutcome = { kind: "appended"; results: AppendResult[] } | { kind: "duplicate" };

/**
 * APPEND_SQL for several commands on one stream: one expected-version guard,
 * every command's events with consecutive versions, and one command_results
 * row per command pointing at its own last event, all in one statement (one
 * transaction). A recorded commandId violates command_results_pkey and
 * aborts the whole statement.
 */
export const GROUP_APPEND_SQL = `
WITH current_version AS (
  SELECT coalesce(max(stream_version), 0) AS v FROM events WHERE stream_id = $1
), guard AS (
  SELECT v FROM current_version WHERE v = $2::int
), inserted AS (
  INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
  SELECT e.event_id, $1, guard.v + e.ord, e.type, e.schema_version, e.data, e.metadata
  FROM guard, unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
    WITH ORDINALITY AS e(event_id, type, schema_version, data, metadata, ord)
  RETURNING stream_version, global_position
), recorded AS (
  INSERT INTO command_results (command_id, stream_id, actor, fingerprint, result)
  SELECT c.command_id, $1, c.actor, c.fingerprint, jsonb_build_object(
    'streamVersion', i.stream_version, 'globalPosition', i.global_position::text,
    'transactionId', pg_current_xact_id()::text, 'eventTypes', c.event_types)
  FROM guard, unnest($8::text[], $9::text[], $10::text[], $11::int[], $12::jsonb[])
    AS c(command_id, actor, fingerprint, last_ord, event_types), inserted i
  WHERE i.stream_version = guard.v + c.last_ord
)
SELECT i.stream_version, i.global_position::text AS global_position, pg_current_xact_id()::text AS transaction_id,
  current_version.v AS current_version
FROM current_version LEFT JOIN inserted i ON true`;

/** The command-side parameters ($8..$12): each command's key, sender, fingerprint, last event (1-based in the batch) and event types. */
export function commandParams(commands: readonly CommandAppend[]): unknown[] {
  let last = 0;
  const lastOrdinals = commands.map((c) => (last += c.events.length));
  return [
    commands.map((c) => c.commandId),
    commands.map((c) => c.actor ?? null),
    commands.map((c) => c.fingerprint ?? null),
    lastOrdinals,
    commands.map((c) => JSON.stringify(c.events.map((e) => e.type))),
  ];
}

/** Each command's result, from the inserted rows: where its own last event landed. */
export function commandResults(
  streamId: string,
  expected: number,
  commands: readonly CommandAppend[],
  rows: readonly GroupAppendRow[],
): AppendResult[] {
  const byVersion = new Map(rows.map((row) => [Number(row.stream_version), row]));
  let version = expected;
  return commands.map((command) => {
    version += command.events.length;
    const row = byVersion.get(version);
    if (!row?.global_position) throw new Error(`group append on ${streamId} returned no event at version ${version}`);
    const globalPosition = BigInt(row.global_position);
    return { streamId, streamVersion: version, globalPosition, position: { transactionId: BigInt(row.transaction_id), globalPosition } };
  });
}
