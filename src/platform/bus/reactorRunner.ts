import { DomainError, isTransient } from "../errors";
import type { EventStore, Queryable } from "../eventstore/eventStore";
import { LogSubscription } from "../eventstore/logSubscription";
import type { Logger } from "../observability/logger";
import type { Reactor } from "../service";
import type { CommandExecutor } from "./commandBus";

/** The log subscription (and checkpoint) name of a service's reactor. */
export function reactorSubscriptionName(service: string, reactor: string): string {
  return `reactor:${service}:${reactor}`;
}

/**
 * Runs a service's reactors inside that service's process: each follows the
 * log with its own checkpoint and executes commands locally. A refusal is a
 * final answer (logged, skipped); anything transient retries the batch, and
 * deterministic command ids make the retry harmless.
 */
export function startReactor(
  service: string,
  reactor: Reactor,
  execute: CommandExecutor,
  db: Queryable,
  store: EventStore,
  log: Logger,
): LogSubscription {
  const subscription = new LogSubscription(
    reactorSubscriptionName(service, reactor.name),
    db,
    store,
    new Set(reactor.eventTypes),
    async (events) => {
      for (const event of events) {
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
      }
    },
    log,
  );
  subscription.start();
  return subscription;
}
