import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "../core/redis";
import { compareLogPositions, formatLogPosition, type LogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { FeedKeys } from "./topics";
import type { ChangeNotification } from "./topics";

/**
 * The change log: one capped Redis stream per projection, holding every batch
 * of change notifications the projector published, in commit order. It is what
 * subscriptions replay from (`after:`, and after the API's subscriber
 * connection dropped).
 *
 * An entry's stream id IS the log position its batch ends at (`tx-pos` for
 * position `tx.pos`; both halves are 64-bit, as stream ids are), so "every
 * change after P" is one XRANGE from `(P`, with no scan. Its `from` field is
 * where the previous entry ended, so the entries form a chain: the oldest
 * one's `from` is the oldest position a subscription can resume after, and a
 * gap in the chain (entries trimmed while a replay was reading) shows.
 */

/** Batches kept per projection unless configured (SUBSCRIPTION_REPLAY_BATCHES). */
export const DEFAULT_CHANGE_LOG_LENGTH = 10_000;

export interface PublishedChange {
  /** The full pub/sub channel (FeedKeys.topic). */
  channel: string;
  /** The notification as JSON, exactly as published. */
  message: string;
}

export interface LoggedBatch {
  /** Where the previous entry ended: this batch holds every change in (from, to]. */
  from: LogPosition;
  to: LogPosition;
  changes: PublishedChange[];
}

/**
 * Appends a batch, chained to the stream's newest entry. A batch that does not
 * end after that entry means the projection started over (its checkpoint was
 * lost and it re-projects the log): the old entries describe a history that is
 * being published again, so the stream starts over with it. Runs in the
 * batch's MULTI, so an aborted batch logs nothing and a committed one always
 * has its entry (an XADD error would have half-applied the transaction).
 *
 * A batch without changes is logged only when the stream does not exist yet:
 * that first entry anchors the chain where the projection stood, so a fresh
 * system resumes from the start of the log, while a log created later (or
 * after its key was lost) refuses what it cannot know.
 */
const APPEND = `
local function later(a, b)
  local ah, al = string.match(a, '^(%d+)%-(%d+)$')
  local bh, bl = string.match(b, '^(%d+)%-(%d+)$')
  local function gt(x, y) if #x ~= #y then return #x > #y end return x > y end
  if ah ~= bh then return gt(ah, bh) end
  return gt(al, bl)
end
if ARGV[3] == '[]' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local from = ARGV[2]
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if newest then
  if later(ARGV[1], newest[1]) then from = string.gsub(newest[1], '-', '.') else redis.call('DEL', KEYS[1]) end
end
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[4], ARGV[1], 'from', from, 'batch', ARGV[3])
return 1`;

/** Queues the append of a batch covering (from, to] on `tx`. */
export function logChanges(
  tx: ChainableCommander,
  keys: FeedKeys,
  projection: string,
  batch: { from: LogPosition; to: LogPosition; changes: readonly PublishedChange[]; maxBatches: number },
): void {
  tx.eval(APPEND, 1, keys.changeLog(projection), streamId(batch.to), formatLogPosition(batch.from), JSON.stringify(batch.changes), String(batch.maxBatches));
}

/** Up to `count` batches ending after `after`, oldest first. */
export async function readBatches(redis: RedisClient, key: string, after: LogPosition, count: number): Promise<LoggedBatch[]> {
  const entries = await redis.xrange(key, `(${streamId(after)}`, "+", "COUNT", count);
  return entries.map(([id, fields]) => parseEntry(id, fields));
}

/** The oldest position a subscription can resume after; null while the log is empty. */
export async function oldestResumable(redis: RedisClient, key: string): Promise<LogPosition | null> {
  const [entry] = await redis.xrange(key, "-", "+", "COUNT", 1);
  return entry ? parseEntry(entry[0], entry[1]).from : null;
}

/** Where the newest batch ends; null while the log is empty. */
export async function newestLogged(redis: RedisClient, key: string): Promise<LogPosition | null> {
  const [entry] = await redis.xrevrange(key, "+", "-", "COUNT", 1);
  return entry ? positionOfId(entry[0]) : null;
}

export function isAfter(a: LogPosition, b: LogPosition): boolean {
  return compareLogPositions(a, b) > 0;
}

function streamId(position: LogPosition): string {
  return `${position.transactionId}-${position.globalPosition}`;
}

function positionOfId(id: string): LogPosition {
  const position = parseLogPosition(id.replace("-", "."));
  if (!position) throw new Error(`change log entry id '${id}' is not a log position`);
  return position;
}

function parseEntry(id: string, fields: string[]): LoggedBatch {
  const field = (name: string) => {
    const at = fields.findIndex((value, i) => i % 2 === 0 && value === name);
    return at < 0 ? "" : (fields[at + 1] ?? "");
  };
  const from = parseLogPosition(field("from"));
  if (!from) throw new Error(`change log entry ${id} has no 'from' position`);
  const parsed: unknown = JSON.parse(field("batch") || "[]");
  const changes = Array.isArray(parsed) ? parsed.filter(isPublishedChange) : [];
  return { from, to: positionOfId(id), changes };
}

function isPublishedChange(value: unknown): value is PublishedChange {
  if (typeof value !== "object" || value === null) return false;
  return typeof (value as { channel?: unknown }).channel === "string" && typeof (value as { message?: unknown }).message === "string";
}

/** A published notification, checked rather than trusted: the feed orders by its position. */
export function parseChange(message: string): ChangeNotification | null {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { projection, id, eventType, eventId, streamVersion, position } = value as Record<string, unknown>;
  if (typeof projection !== "string" || typeof id !== "string" || typeof eventType !== "string" || typeof eventId !== "string") return null;
  if (typeof streamVersion !== "number" || typeof position !== "string" || !parseLogPosition(position)) return null;
  const document = (value as { document?: unknown }).document ?? null;
  return { projection, id, document, eventType, eventId, streamVersion, position };
}
