import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";

/** Runs one command of a service and reports what it appended. */
export type CommandExecutor = (command: unknown, context: CommandContext) => Promise<CommandOutcome>;

/**
 * Where transports (GraphQL, jobs, sagas) send commands. They name the owning
 * service and never know whether it runs in this process or across the network.
 */
export interface CommandBus {
  send(service: string, command: unknown, context: CommandContext): Promise<CommandOutcome>;
}
