import { errorMessage } from "../core/errors";
import type { EventStore } from "../eventstore/eventStore";
import type { DomainEvent, RecordedEvent } from "../eventstore/types";
import type { Checkpointer } from "./checkpointer";
import { CheckpointedStep, type ReactorDefinition } from "./checkpointedStep";
import { defaultDriveOptions, type DriveOptions, LogProcessor, type ProcessorObserver } from "./logProcessor";
import type { LeaseCoordinator } from "./leaseCoordinator";
import { LeasedStep, leaseFence } from "./leasedStep";
import type { ProcessorLog } from "./types";
import type { WakeupSource } from "./wakeups";

export interface ReactorOptions extends DriveOptions {
  batchSize: number;
  /** See CheckpointedStepOptions: infinite unless a reactor's failures can only be bugs. */
  maxEventAttempts: number;
}

export const defaultReactorOptions: ReactorOptions = { ...defaultDriveOptions, batchSize: 200, maxEventAttempts: Number.POSITIVE_INFINITY };

export interface ReactorDeps {
  store: EventStore;
  /** Usually a PostgresCheckpointer. */
  checkpointer: Checkpointer;
  log: ProcessorLog;
  wakeups?: WakeupSource;
  observer?: ProcessorObserver;
  /** With leases, only the replica owning the processor's unit drives it; the others stand by. */
  leases?: LeaseCoordinator;
}

/**
 * A processor that reacts to events with effects of its own (commands,
 * saga starts): at least once, checkpoint stored after the effects.
 * Emmett's `reactor()`; a projector is the same driver over a step whose
 * checkpoint commits with the read-model writes (projection/projectionRunner.ts).
 */
export function reactor<E extends DomainEvent>(definition: ReactorDefinition<E>, deps: ReactorDeps, options: Partial<ReactorOptions> = {}): LogProcessor {
  const resolved = { ...defaultReactorOptions, ...options };
  const leases = deps.leases;
  const unit = { processor: definition.name, segment: 0 };
  const lease = leases?.lease(unit);
  const step = new CheckpointedStep(definition, deps.store, deps.checkpointer, {
    batchSize: resolved.batchSize,
    maxEventAttempts: resolved.maxEventAttempts,
    onParked: (event: RecordedEvent, error: unknown) =>
      deps.log.error(
        { processor: definition.name, eventId: event.eventId, eventType: event.type },
        `processor ${definition.name}: parked ${event.type} ${event.eventId} after ${resolved.maxEventAttempts} attempts: ${errorMessage(error)}`,
      ),
    ...(lease ? { fence: leaseFence(lease) } : {}),
  });
  if (!leases || !lease) return new LogProcessor(step, deps.log, resolved, deps.wakeups ?? null, deps.observer);
  const processor = new LogProcessor(new LeasedStep(step, lease, leases), deps.log, resolved, deps.wakeups ?? null, deps.observer);
  leases.onChange((changed, change) => {
    if (change === "acquired" && changed.processor === unit.processor) processor.wake();
  });
  return processor;
}
