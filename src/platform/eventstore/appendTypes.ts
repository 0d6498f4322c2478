import type { LogPosition } from "./logPosition";
import type { AppendResult, NewEvent } from "./types";

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

export interface LogLag {
  /** Position of the last event a reader can see (LOG_START for an empty log). */
  head: LogPosition;
  /** Events after the checkpoint, counted up to a cap. */
  events: number;
  /** `recordedAt` of the first event after the checkpoint, or null when caught up. */
  oldestRecordedAt: string | null;
}

/** Told of every append that wrote events (not of duplicates); for metrics and logs. Must not throw. */
export interface AppendObserver {
  appended(append: { streamId: string; events: readonly NewEvent[]; result: AppendOutcome }): void;
}
