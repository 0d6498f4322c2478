import { DomainError, isTransient } from "../core/errors";
import type { EventStore, Queryable } from "../eventstore/eventStore";
import type { RecordedEvent } from "../eventstore/types";
import type { Logger } from "../observability/logger";
import type { LogProcessor } from "./logProcessor";
import { PostgresCheckpointer } from "./postgresCheckpointer";
import { reactor as logReactor } from "./reactor";
import type { CommandExecutor } from "../bus/commandBus";
import type { LeaseCoordinator } from "./leaseCoordinator";
import type { WakeupSource } from "./wakeups";

/**
 * Choreography: a service reacting to facts of others with commands to
 * itself. `key` makes each command's id deterministic, so a redelivered
 * event never applies twice.
 */
export interface Reactor<Command = unknown> {
  readonly name: string;
  readonly eventTypes: readonly string[];
  react(event: RecordedEvent): Array<{ key: string; command: Command }>;
}

/** The processor (and checkpoint) name of a service's reactor. */
export function reactorSubscriptionName(service: string, reactor: string): string {
  return `reactor:${service}:${reactor}`;
}

/**
 * Runs a service's reactor inside that service's process as a log processor
 * with a PostgreSQL checkpoint, executing commands locally. A refusal is a
 * final answer (logged, skipped); anything transient retries from the
 * event, and deterministic command ids make the retry harmless.
 */
export function startReactor(
  service: string,
  reactor: Reactor,
  execute: CommandExecutor,
  db: Queryable,
  store: EventStore,
  log: Logger,
  {
    leases,
    wakeups,
  }: {
    /** With leases, one replica of the service runs the reaction; the others stand by. */
    leases?: LeaseCoordinator;
    /** Appends of the reactor's types wake it (then it polls only every `quietMs`, see DriveOptions). */
    wakeups?: WakeupSource;
  } = {},
): LogProcessor {
  const react = async (event: RecordedEvent) => {
    for (const { key, command } of reactor.react(event)) {
      try {
        await execute(command, {
          commandId: `react:${reactor.name}:${event.eventId}:${key}`,
          correlationId: event.metadata.correlationId,
          causationId: event.eventId,
          actor: `reactor:${service}:${reactor.name}`,
        });
      } catch (error) {
        if (!(error instanceof DomainError) || isTransient(error)) throw error;
        log.warn(
          { reactor: reactor.name, eventType: event.type, eventId: event.eventId, correlationId: event.metadata.correlationId, code: error.code },
          `${reactor.name}: ${event.type} ${event.eventId} refused (${error.code}): ${error.message}`,
        );
      }
    }
  };
  const processor = logReactor(
    { name: reactorSubscriptionName(service, reactor.name), eventTypes: reactor.eventTypes, handle: react },
    { store, checkpointer: new PostgresCheckpointer(db), log, ...(leases ? { leases } : {}), ...(wakeups ? { wakeups } : {}) },
  );
  processor.start();
  return processor;
}
