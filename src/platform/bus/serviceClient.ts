import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import type { AnyContract, CommandOf } from "../aggregate/contract";
import type { CommandBus } from "./commandBus";

/** The command bus seen from one service's contract: it takes that service's commands and nothing else. */
export interface ServiceClient<C extends AnyContract> {
  readonly service: C["name"];
  send(command: CommandOf<C>, context: CommandContext): Promise<CommandOutcome>;
}

/**
 * A typed layer over the untyped bus: `serviceClient(bus, inventoryContract).send(command, ctx)`
 * is a compile error unless `command` is an InventoryCommand. The bus itself stays untyped
 * (it carries JSON across processes), and the owning service parses every command again.
 */
export function serviceClient<C extends AnyContract>(bus: CommandBus, contract: C): ServiceClient<C> {
  return {
    service: contract.name,
    send: (command, context) => bus.send(contract.name, command, context),
  };
}
