import { shownCommandId } from "../aggregate/idempotency";
import type { CommandBus } from "./commandBus";
import { DomainError } from "../core/errors";
import type { Logger } from "../observability/logger";
import { commandType } from "../observability/metrics";

/**
 * The caller's side of a command (a mutation in the api): one log line per
 * command sent, with the ids that the owning service's lines and the events'
 * metadata repeat. A mutation's correlationId is its commandId.
 */
export function observeBus(bus: CommandBus, log: Logger): CommandBus {
  return {
    async send(service, command, context) {
      const started = Date.now();
      const ids = { service, commandType: commandType(command), commandId: shownCommandId(context), correlationId: context.correlationId ?? context.commandId, actor: context.actor };
      try {
        const outcome = await bus.send(service, command, context);
        log.info({ ...ids, outcome: outcome.duplicate ? "duplicate" : "ok", ms: Date.now() - started }, `sent ${ids.commandType} to ${service}`);
        return outcome;
      } catch (error) {
        const code = error instanceof DomainError ? error.code : "INTERNAL";
        log.info({ ...ids, outcome: code, ms: Date.now() - started }, `sent ${ids.commandType} to ${service}: ${code}`);
        throw error;
      }
    },
  };
}
