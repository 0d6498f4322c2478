import { CommandHandler, type CommandHandlerOptions } from "../aggregate/commandHandler";
import type { CommandExecutor } from "../bus/commandBus";
import { ValidationError } from "../errors";
import type { EventStore } from "../eventstore/eventStore";
import { type SagaCommand, sagaCommandDecider } from "./sagaState";

/** The saga runner's own command queue carries operator commands (redrive). */
export const SAGA_SERVICE = "saga";

export function parseSagaStream(stream: string): { saga: string; id: string } | null {
  const match = /^saga\.([a-z0-9]+)-(.+)$/.exec(stream);
  return match ? { saga: match[1]!, id: match[2]! } : null;
}

export function createSagaExecutor(
  store: EventStore,
  handlerOptions: Partial<CommandHandlerOptions>,
  afterRedrive: (stream: string, saga: string) => Promise<void>,
): CommandExecutor {
  const handler = new CommandHandler(store, sagaCommandDecider, handlerOptions);
  return async (command, context) => {
    const c = command as SagaCommand;
    const parsed = typeof c?.sagaStreamId === "string" ? parseSagaStream(c.sagaStreamId) : null;
    if (c?.type !== "RedriveSaga" || !parsed) throw new ValidationError("sagaStreamId", c?.sagaStreamId, "a saga id such as saga.checkout-<orderId>");
    const outcome = await handler.handle(c.sagaStreamId, c, context);
    if (!outcome.duplicate) await afterRedrive(c.sagaStreamId, parsed.saga);
    return outcome;
  };
}
