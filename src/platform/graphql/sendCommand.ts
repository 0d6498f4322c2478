import type { AnyCommand, ServiceContract } from "../aggregate/contract";
import type { EventSchemas } from "../eventstore/eventSchemas";
import { serviceClient } from "../bus/serviceClient";
import { commandContext, type RequestContext } from "./context";
import { CommandResult } from "./types";

/**
 * A mutation's one path to a service: the command is checked against the
 * service's contract before anything is queued, so a refusal costs the queue
 * nothing, and the client's commandId makes a resend safe. `unchecked` is
 * typed as the service's command so a resolver's literal is checked as it is
 * written; the contract's parse still checks its values.
 */
export async function sendCommand<Command extends AnyCommand>(
  ctx: RequestContext,
  contract: ServiceContract<string, EventSchemas, Command>,
  commandId: string | null,
  unchecked: Command,
): Promise<CommandResult> {
  const command = contract.parseCommand(unchecked);
  const context = commandContext(ctx, commandId, command);
  return CommandResult.from(await serviceClient(ctx.commands, contract).send(command, context), context);
}
