import { shownCommandId } from "../aggregate/idempotency";
import type { CommandExecutor } from "./commandBus";
import { DomainError } from "../core/errors";
import type { AppendObserver } from "../eventstore/eventStore";
import { formatLogPosition } from "../eventstore/logPosition";
import type { Logger } from "../observability/logger";
import { commandType, type Metrics, streamCategory } from "../observability/metrics";

/**
 * Wraps a service's executor: every command handled here is counted, timed
 * and logged once, with its ids, so one correlationId leads from a mutation
 * through the saga to every command and event it caused.
 */
export function observeExecutor(service: string, execute: CommandExecutor, metrics: Metrics, log: Logger): CommandExecutor {
  return async (command, context) => {
    const type = commandType(command);
    const ids = { service, commandType: type, commandId: shownCommandId(context), correlationId: context.correlationId ?? context.commandId, causationId: context.causationId, actor: context.actor };
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const outcome = await execute(command, context);
      const result = outcome.duplicate ? "duplicate" : outcome.position ? "ok" : "unchanged";
      const elapsed = seconds();
      metrics.commands.inc({ service, type, outcome: result });
      metrics.commandSeconds.observe({ service, type, outcome: result }, elapsed);
      log.info(
        { ...ids, outcome: result, ms: round(elapsed * 1000), streamId: outcome.streamId, streamVersion: outcome.streamVersion, events: outcome.eventTypes },
        `command ${type} ${result}`,
      );
      return outcome;
    } catch (error) {
      const code = error instanceof DomainError ? error.code : "INTERNAL";
      const elapsed = seconds();
      metrics.commands.inc({ service, type, outcome: code });
      metrics.commandSeconds.observe({ service, type, outcome: code }, elapsed);
      // A refusal is an answer (info); anything else will be retried or is a fault (warn).
      const level = error instanceof DomainError && code !== "UNAVAILABLE" && code !== "CONCURRENCY_CONFLICT" ? "info" : "warn";
      log[level]({ ...ids, outcome: code, ms: round(elapsed * 1000), error: error instanceof Error ? error.message : String(error) }, `command ${type} ${code}`);
      throw error;
    }
  };
}

/** Counts and logs every append this process makes, commands' and sagas' alike, with the correlationId of its events. */
export function appendTelemetry(metrics: Metrics, log: Logger): AppendObserver {
  return {
    appended({ streamId, events, result }) {
      const category = streamCategory(streamId);
      metrics.appends.inc({ category });
      metrics.appendedEvents.inc({ category }, events.length);
      const metadata = events[0]?.metadata ?? {};
      log.info(
        {
          streamId,
          streamVersion: result.streamVersion,
          position: formatLogPosition(result.position),
          events: events.map((e) => e.type),
          correlationId: metadata.correlationId,
          causationId: metadata.causationId,
          commandId: metadata.commandId,
        },
        `appended ${events.length} event(s) to ${streamId}`,
      );
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
