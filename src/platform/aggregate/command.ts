import type { LogPosition } from "../eventstore/logPosition";
import type { DomainEvent } from "../eventstore/types";

/** Who sent a command and why; copied into every event it produces. */
export interface CommandContext {
  /** The idempotency key: for a client's command, its commandId scoped to the actor (see idempotency.ts). */
  commandId: string;
  /** The commandId as the client sent it, shown back in replies, logs and event metadata; absent for internal commands. */
  clientCommandId?: string;
  correlationId?: string;
  causationId?: string;
  actor: string;
  /** Hash of the command as its sender stated it; absent: the command's own (see idempotency.ts). */
  fingerprint?: string;
}

export interface CommandOutcome<Event extends DomainEvent = DomainEvent> {
  commandId: string;
  streamId: string;
  streamVersion: number;
  /** Position of the last event written, or null when the command changed nothing. */
  position: LogPosition | null;
  /** The events this call appended (empty for a duplicate or a no-op). */
  events: Event[];
  /** Types of the events the command produced, also for a duplicate: what its first run appended. */
  eventTypes: string[];
  /** True when the command had already been applied: nothing was appended this time. */
  duplicate: boolean;
}

export interface CommandHandlerOptions {
  /** How many times to reload and decide again after a concurrent write. */
  maxAttempts: number;
  /** Called after a successful append (e.g. to wake projectors). Never awaited on the hot path's result. */
  onAppended?: (eventTypes: readonly string[]) => void;
  /**
   * Take a snapshot once this many events have been folded beyond the last one
   * (0: never). Only for deciders with a `stateVersion`.
   */
  snapshotEvery: number;
  /** A snapshot that could not be taken; the command it followed has succeeded regardless. */
  onSnapshotError?: (streamId: string, error: unknown) => void;
  /**
   * Keep the last folded state of this many streams (least recently used goes
   * first), so a command on a hot stream neither reads nor folds it (0: keep none).
   */
  cacheStreams: number;
  /**
   * Group commit: at most this many commands for one stream that queued up
   * while its previous append was in flight are decided in order and
   * appended together, in one statement (1: each command alone).
   */
  maxGroup: number;
}
