import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import { DomainError, ErrorCode, UnavailableError } from "../errors";
import { isConnectionError } from "../eventstore/eventStore";
import type { PgListener } from "../eventstore/pgListener";
import type { PostgresHealth } from "../eventstore/postgresHealth";
import { CommandInbox, REPLY_CHANNEL, replyKey } from "./commandInbox";
import { type CommandReply, asDuplicate, fromReply } from "./wire";
import { shownCommandId } from "../aggregate/idempotency";

export interface InboxCommandBusOptions {
  timeoutMs: number;
  /** Re-reads a reply this often, in case its notification was missed. */
  pollMs: number;
}

/**
 * The caller's end of the command inbox: puts the command in PostgreSQL for
 * its owning service and waits for the reply the service writes back. Same
 * contract as the queue: a refusal is a reply, a timeout leaves the command
 * to run later, a resend with the same commandId gets the first result.
 */
export class InboxCommandBus {
  private readonly inbox: CommandInbox;
  private readonly waiters = new Map<string, Set<() => void>>();
  private unlisten: (() => void) | null = null;

  constructor(
    inbox: CommandInbox,
    private readonly listener: PgListener,
    private readonly options: InboxCommandBusOptions,
    private readonly health?: PostgresHealth,
  ) {
    this.inbox = inbox;
  }

  async send(service: string, command: unknown, context: CommandContext): Promise<CommandOutcome> {
    return fromReply(await this.sendRaw(service, command, context, this.options.timeoutMs));
  }

  async sendRaw(service: string, command: unknown, context: CommandContext, timeoutMs: number): Promise<CommandReply> {
    // Listens only once this lane is first used: most processes never need it.
    this.unlisten ??= this.listener.on(REPLY_CHANNEL, (payload) => {
      if (payload === "") this.waiters.forEach((set) => set.forEach((wake) => wake()));
      else this.waiters.get(payload)?.forEach((wake) => wake());
    });
    const earlier = await this.pg(() => this.inbox.put(service, command, context));
    if (earlier) return asDuplicate(earlier); // a refusal (IDEMPOTENCY_KEY_REUSED among them) stays as it is
    const key = replyKey(service, context.commandId);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = await this.pg(() => this.inbox.reply(service, context.commandId));
      if (reply) return reply;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new DomainError(
          ErrorCode.COMMAND_TIMEOUT,
          `The ${service} service did not answer within ${timeoutMs} ms. The command stays in its inbox and will run ` +
            `when the service is back; resend it with the same commandId (${shownCommandId(context)}) to get its result.`,
          { service, commandId: shownCommandId(context), timeoutMs },
        );
      }
      await this.notifiedOr(key, Math.min(left, this.options.pollMs));
    }
  }

  close(): void {
    this.unlisten?.();
  }

  private notifiedOr(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  private async pg<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (!isConnectionError(error) && !(error instanceof UnavailableError)) throw error;
      const unavailable = error instanceof UnavailableError ? error : new UnavailableError("PostgreSQL", error);
      this.health?.reportFailure(unavailable);
      throw unavailable;
    }
  }
}
