import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import { UnavailableError } from "../core/errors";
import { isConnectionError } from "../eventstore/eventStore";
import type { PgListener } from "./pgListener";
import type { PostgresHealth } from "./postgresHealth";
import { CommandInbox, REPLY_CHANNEL, replyKey } from "./commandInbox";
import type { RawCommandBus } from "./rawCommandBus";
import { RequestReply } from "./requestReply";
import { asDuplicate, type CommandReply, commandTimedOut, fromReply, type WireOutcome } from "./wire";

export interface InboxCommandBusOptions {
  timeoutMs: number;
  /** Re-reads a reply this often, in case its notification was missed. */
  pollMs: number;
}

/**
 * The caller's end of the command inbox, a thin lane over the request/reply
 * core: it puts the command in PostgreSQL for its owning service, and a
 * NOTIFY tells the core that its reply may be there. Same contract as the
 * queue: a refusal is a reply, a timeout leaves the command to run later, a
 * resend with the same commandId gets the first result.
 */
export class InboxCommandBus implements RawCommandBus {
  private readonly core = new RequestReply<WireOutcome>();
  private unlisten: (() => void) | null = null;

  constructor(
    private readonly inbox: CommandInbox,
    private readonly listener: PgListener,
    private readonly options: InboxCommandBusOptions,
    private readonly health?: PostgresHealth,
  ) {}

  async send(service: string, command: unknown, context: CommandContext): Promise<CommandOutcome> {
    return fromReply(await this.sendRaw(service, command, context, this.options.timeoutMs));
  }

  async sendRaw(service: string, command: unknown, context: CommandContext, timeoutMs: number): Promise<CommandReply> {
    // Listens only once this lane is first used: most processes never need it.
    this.unlisten ??= this.listener.on(REPLY_CHANNEL, (key) => this.core.hear(key === "" ? null : key, { changed: true }));
    return this.core.request(replyKey(service, context.commandId), {
      // A refusal (IDEMPOTENCY_KEY_REUSED among them) stays as it is.
      put: async () => {
        const earlier = await this.pg(() => this.inbox.put(service, command, context));
        return earlier && asDuplicate(earlier);
      },
      read: () => this.pg(() => this.inbox.reply(service, context.commandId)),
      timeoutMs,
      pollMs: this.options.pollMs,
      timedOut: () => commandTimedOut(service, timeoutMs, context, "stays in its inbox"),
    });
  }

  close(): void {
    this.unlisten?.();
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
