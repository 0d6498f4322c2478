import { errorMessage } from "../core/errors";
import type { RecordedEvent } from "../eventstore/types";

/** A processor's handler failed on one event; it is retried until `maxAttempts`, then parked. */
export class ProcessorEventError extends Error {
  constructor(
    readonly processor: string,
    readonly event: RecordedEvent,
    readonly reason: unknown,
    readonly attempts: number,
    readonly maxAttempts: number,
  ) {
    super(
      `${processor}: ${event.type} ${event.eventId} failed (attempt ${attempts}${Number.isFinite(maxAttempts) ? ` of ${maxAttempts}` : ""}): ${errorMessage(reason)}`,
      { cause: reason },
    );
    this.name = "ProcessorEventError";
  }
}
