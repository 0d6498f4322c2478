import { commandContext, type RequestContext } from "./context";
import { CommandResult } from "./types";

/**
 * A mutation's one path to a service: the command is checked against its
 * schema (`parse`) before anything is queued, so a refusal costs the queue
 * nothing, and the client's commandId makes a resend safe. `unchecked` is
 * typed as the service's command so a resolver's literal is checked as it is
 * written; `parse` still checks its values.
 */
export async function sendCommand<Command>(
  ctx: RequestContext,
  service: string,
  parse: (command: unknown) => Command,
  commandId: string | null,
  unchecked: Command,
): Promise<CommandResult> {
  const command = parse(unchecked);
  const context = commandContext(ctx, commandId, command);
  return CommandResult.from(await ctx.commands.send(service, command, context), context);
}
