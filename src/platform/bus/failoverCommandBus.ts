import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import type { PostgresHealth } from "./postgresHealth";
import type { InboxCommandBus } from "./inboxCommandBus";
import { CommandQueueUnavailable, type QueueCommandBus } from "./queueCommandBus";
import type { RawCommandBus } from "./rawCommandBus";
import { type CommandReply, fromReply } from "./wire";
import type { Logger } from "../observability/logger";

/**
 * Sends each command by the best lane still open. Every command ends in
 * PostgreSQL, so none is accepted while PostgreSQL is known to be down: the
 * caller gets UNAVAILABLE at once instead of a timeout. Commands normally go
 * through the BullMQ queue; when Redis cannot take them they go through the
 * command inbox in PostgreSQL, to the same owning service.
 */
export class FailoverCommandBus implements RawCommandBus {
  private onInbox = false;

  constructor(
    private readonly queue: QueueCommandBus,
    private readonly inbox: InboxCommandBus,
    private readonly health: PostgresHealth,
    private readonly timeoutMs: number,
    private readonly log?: Logger,
  ) {}

  async send(service: string, command: unknown, context: CommandContext): Promise<CommandOutcome> {
    return fromReply(await this.sendRaw(service, command, context, this.timeoutMs, true));
  }

  /** `admit`: a client's new command, which admission control may refuse with OVERLOADED (see QueueCommandBus). */
  async sendRaw(service: string, command: unknown, context: CommandContext, timeoutMs: number, admit = false): Promise<CommandReply> {
    this.health.assertUp();
    try {
      const reply = await this.queue.sendRaw(service, command, context, timeoutMs, admit);
      this.lane(false, "");
      return reply;
    } catch (error) {
      if (!(error instanceof CommandQueueUnavailable)) throw error;
      this.lane(true, error.message);
    }
    return this.inbox.sendRaw(service, command, context, timeoutMs);
  }

  private lane(inbox: boolean, why: string): void {
    if (inbox === this.onInbox) return;
    this.onInbox = inbox;
    this.log?.warn(inbox ? `commands go through the PostgreSQL command inbox: ${why}` : "commands go through the queues again");
  }
}
