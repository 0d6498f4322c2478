import type { RedisClient } from "../core/redis";
import { DomainError, ErrorCode, errorMessage, NotFoundError } from "../core/errors";
import { formatLogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { RecordedEvent } from "../eventstore/types";
import { parseGeneration, type ReadModelKeys } from "./keys";

/**
 * A poison event: one a projection's code failed on more times than allowed.
 * It is parked (a dead letter, per projection generation) with its error and
 * the whole event, so an operator can retry it without the API reading the log.
 */
export interface ParkedEvent {
  eventId: string;
  /** Log position token of the event. */
  position: string;
  streamId: string;
  streamVersion: number;
  type: string;
  error: string;
  attempts: number;
  parkedAt: string;
  event: WireEvent;
}

/** What the skipped list keeps of a parked event an operator dropped. */
export interface SkippedEvent extends Omit<ParkedEvent, "event"> {
  skippedBy: string;
  skippedAt: string;
}

/** A RecordedEvent in JSON form (positions as tokens: JSON has no bigint). */
export interface WireEvent extends Omit<RecordedEvent, "globalPosition" | "position"> {
  position: string;
}

export function toWireEvent(event: RecordedEvent): WireEvent {
  const { globalPosition: _globalPosition, position, ...rest } = event;
  return { ...rest, position: formatLogPosition(position) };
}

export function fromWireEvent(wire: WireEvent): RecordedEvent {
  const position = parseLogPosition(wire.position);
  if (!position) throw new Error(`parked event ${wire.eventId} has a malformed position '${wire.position}'`);
  return { ...wire, position, globalPosition: position.globalPosition };
}

export function parkedEntry(event: RecordedEvent, error: unknown, attempts: number, now = new Date()): ParkedEvent {
  return {
    eventId: event.eventId,
    position: formatLogPosition(event.position),
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    type: event.type,
    error: errorMessage(error),
    attempts,
    parkedAt: now.toISOString(),
    event: toWireEvent(event),
  };
}

export function parseParked(raw: string): ParkedEvent {
  return JSON.parse(raw) as ParkedEvent;
}

/** The projection's own code (documentIds, evolve, indexes, topics) threw on this event. */
export class EventFailure extends Error {
  constructor(
    readonly event: RecordedEvent,
    readonly reason: unknown,
  ) {
    super(errorMessage(reason));
  }
}

/** A step stopped at an event the projection failed on; it is retried until parked. */
export class ProjectionEventError extends DomainError<"PROJECTION_EVENT_FAILED"> {
  constructor(projection: string, event: RecordedEvent, cause: unknown, attempts: number, maxAttempts: number) {
    super(
      ErrorCode.PROJECTION_EVENT_FAILED,
      `Projection '${projection}' failed on event ${event.eventId} (${event.type} at ${formatLogPosition(event.position)}), ` +
        `attempt ${attempts} of ${maxAttempts}: ${errorMessage(cause)}`,
      { projection, eventId: event.eventId, attempts, maxAttempts },
    );
  }
}

/** How many skipped events the audit list keeps per projection. */
const SKIPPED_KEPT = 1000;

/** Moves a parked event to the skipped list in one step, so two concurrent skips record it once. */
const SKIP = `local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
local entry = cjson.decode(raw)
entry.event = nil
entry.skippedBy = ARGV[2]
entry.skippedAt = ARGV[3]
redis.call('LPUSH', KEYS[2], cjson.encode(entry))
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
return raw`;

/**
 * Drops a parked event for good, leaving its read model without it, and
 * records who skipped it and when (newest first, bounded).
 */
export async function skipParked(redis: RedisClient, keys: ReadModelKeys, projection: string, eventId: string, by: string): Promise<ParkedEvent> {
  const gen = keys.generation(projection, parseGeneration(await redis.get(keys.activeGeneration(projection))));
  const raw = (await redis.eval(SKIP, 2, gen.parked, keys.skipped(projection), eventId, by, new Date().toISOString(), SKIPPED_KEPT)) as string | null;
  if (raw === null) throw new NotFoundError(`parked event of projection '${projection}'`, eventId);
  return parseParked(raw);
}
