import { DomainError, ErrorCode } from "../errors";
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

/** Delivers commands to executors in this process (the `all` and `api` roles). */
export class LocalCommandBus implements CommandBus {
  constructor(private readonly executors: ReadonlyMap<string, CommandExecutor>) {}

  send(service: string, command: unknown, context: CommandContext): Promise<CommandOutcome> {
    const execute = this.executors.get(service);
    if (!execute) {
      return Promise.reject(new DomainError(ErrorCode.UNAVAILABLE, `No service '${service}' is registered`, { service }));
    }
    return execute(command, context);
  }
}
