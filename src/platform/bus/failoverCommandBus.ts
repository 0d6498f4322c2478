import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import type { PostgresHealth } from "../eventstore/postgresHealth";
import type { CommandBus } from "./commandBus";
import type { InboxCommandBus } from "./inboxCommandBus";
import { CommandQueueUnavailable, type QueueCommandBus } from "./queueCommandBus";
import { type CommandReply, fromReply } from "./wire";

/** A command bus whose callers choose how long to wait and get refusals as replies (sagas). */
export interface RawCommandBus extends CommandBus {
  sendRaw(service: string, command: unknown, context: CommandContext, timeoutMs: number): Promise<CommandReply>;
}

/**
 * Sends each command by the best lane still open. Every command ends in
 * PostgreSQL, so none is accepted while PostgreSQL is known to be down: the
 * caller gets UNAVAILABLE at once instead of a timeout. Commands normally go
 * through the BullMQ queue; when Redis cannot take them they go through the
 * command inbox in PostgreSQL, to the same owning service.
 */
export class FailoverCommandBus implements RawCommandBus {
  constructor(
    private readonly queue: QueueCommandBus,
    private readonly inbox: InboxCommandBus,
    private readonly health: PostgresHealth,
    private readonly timeoutMs: number,
  ) {}

  async send(service: string, command: unknown, context: CommandContext): Promise<CommandOutcome> {
    return fromReply(await this.sendRaw(service, command, context, this.timeoutMs));
  }

  async sendRaw(service: string, command: unknown, context: CommandContext, timeoutMs: number): Promise<CommandReply> {
    this.health.assertUp();
    try {
      return await this.queue.sendRaw(service, command, context, timeoutMs);
    } catch (error) {
      if (!(error instanceof CommandQueueUnavailable)) throw error;
    }
    return this.inbox.sendRaw(service, command, context, timeoutMs);
  }
}
