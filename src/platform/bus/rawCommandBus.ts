import type { CommandContext } from "../aggregate/commandHandler";
import type { CommandBus } from "./commandBus";
import type { CommandReply } from "./wire";

/** A command bus whose callers choose how long to wait and get refusals as replies (sagas). */
export interface RawCommandBus extends CommandBus {
  sendRaw(service: string, command: unknown, context: CommandContext, timeoutMs: number): Promise<CommandReply>;
}
