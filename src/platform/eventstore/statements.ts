/** The event store's SQL, one statement per operation. */

/**
 * One statement does the whole append: guard the expected version, insert the
 * events with consecutive versions, and record the command's result. A single
 * statement is atomic without BEGIN/COMMIT round trips, and the unique
 * (stream_id, stream_version) constraint settles races the guard cannot see.
 */
export const APPEND_SQL = `
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
export const EVENT_COLUMNS = `event_id, stream_id, stream_version, global_position, transaction_id::text AS transaction_id,
  type, schema_version, data, metadata`;

export const READ_ALL_SQL = `
SELECT ${EVENT_COLUMNS} FROM events
WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY events.transaction_id, events.global_position
LIMIT $3`;

// The snapshot (if one of this state version exists) and the events after it, in one round trip:
// a stream without a snapshot costs what readStream costs.
export const READ_FROM_SNAPSHOT_SQL = `
WITH snap AS (SELECT stream_version, state FROM snapshots WHERE stream_id = $1 AND state_version = $2)
SELECT true AS is_snapshot, stream_version, state AS data, NULL::uuid AS event_id, NULL::text AS stream_id,
  NULL::bigint AS global_position, NULL::text AS transaction_id, NULL::text AS type, NULL::int AS schema_version,
  NULL::jsonb AS metadata
FROM snap
UNION ALL
SELECT false, stream_version, data, event_id, stream_id, global_position, transaction_id::text, type, schema_version, metadata
FROM events WHERE stream_id = $1 AND stream_version > coalesce((SELECT stream_version FROM snap), 0)
ORDER BY is_snapshot DESC, stream_version`;
