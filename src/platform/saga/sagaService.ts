import { CommandHandler, type CommandHandlerOptions } from "../aggregate/commandHandler";
import type { CommandExecutor } from "../bus/commandBus";
import { checked, commandShape, parseCommand } from "../aggregate/commandSchema";
import type { ServiceContract } from "../aggregate/contract";
import { ValidationError } from "../core/errors";
import type { EventStore } from "../eventstore/eventStore";
import { validString } from "../aggregate/validation";
import { sagaEventSchemas } from "./sagaEvents";
import { type SagaCommand, sagaCommandDecider } from "./sagaState";

/** The saga runner's own command queue carries operator commands (redrive). */
export const SAGA_SERVICE = "saga";

export function parseSagaStream(stream: string): { saga: string; id: string } | null {
  const match = /^saga\.([a-z0-9]+)-(.+)$/.exec(stream);
  return match ? { saga: match[1]!, id: match[2]! } : null;
}

/** A saga instance's stream id and the saga it names ("checkout" for saga.checkout-o-1); VALIDATION for anything else. */
function validSagaStream(field: string, value: unknown): { stream: string; saga: string } {
  const expected = "a saga id such as saga.checkout-<orderId>";
  const stream = validString(field, value, expected);
  const parsed = parseSagaStream(stream);
  if (!parsed) throw new ValidationError(field, value, expected);
  return { stream, saga: parsed.saga };
}

const sagaCommandSchemas = {
  RedriveSaga: commandShape("RedriveSaga", {
    sagaStreamId: checked((v) => validSagaStream("sagaStreamId", v).stream),
    by: checked((v) => validString("by", v)),
  }),
} satisfies Record<SagaCommand["type"], unknown>;

/** The saga runner as a service: the saga events it appends and the operator commands it takes. */
export const sagaContract: ServiceContract<typeof SAGA_SERVICE, typeof sagaEventSchemas, SagaCommand> = {
  name: SAGA_SERVICE,
  events: sagaEventSchemas,
  commands: sagaCommandSchemas,
  parseCommand: (command) => parseCommand(sagaCommandSchemas, command),
};

export function createSagaExecutor(
  store: EventStore,
  handlerOptions: Partial<CommandHandlerOptions>,
  afterRedrive: (stream: string, saga: string) => Promise<void>,
): CommandExecutor {
  const handler = new CommandHandler(store, sagaCommandDecider, handlerOptions);
  return async (command, context) => {
    // Parsed, not cast, like every service's commands (see bus/commandExecutor.ts).
    const redrive = sagaContract.parseCommand(command);
    const outcome = await handler.handle(redrive.sagaStreamId, redrive, context);
    if (!outcome.duplicate) await afterRedrive(redrive.sagaStreamId, validSagaStream("sagaStreamId", redrive.sagaStreamId).saga);
    return outcome;
  };
}
