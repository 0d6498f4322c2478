import { DomainError, ErrorCode, errorMessage } from "../core/errors";
import type { PgListener } from "./pgListener";
import type { PostgresHealth } from "./postgresHealth";
import type { CommandExecutor } from "./commandBus";
import { CommandInbox, INBOX_CHANNEL } from "./commandInbox";
import { answer, refusalReply } from "./reply";
import { toWireOutcome } from "./wire";
import type { Logger } from "../observability/logger";

export interface InboxWorkerOptions {
  /** Commands taken at once. */
  concurrency: number;
  /** Looks at the inbox this often even without a notification. */
  pollMs: number;
  /**
   * How long a taken command is this worker's unless renewed; past it another
   * worker may run it (idempotently). Renewed every third of it while the
   * command runs, so it can be short: a dead worker's commands are taken again
   * within a lease and a poll.
   */
  leaseMs: number;
  /** Runs of a command failing transiently before its failure becomes its reply. */
  maxAttempts: number;
  /** How long answers are kept for resends. */
  keepAnswersMs: number;
}

export const defaultInboxWorkerOptions: InboxWorkerOptions = {
  concurrency: 8,
  pollMs: 1000,
  leaseMs: 1000,
  maxAttempts: 8,
  keepAnswersMs: 24 * 3600_000,
};

const PRUNE_EVERY_POLLS = 60;

/**
 * The owning service's end of its command inbox, beside its BullMQ worker:
 * the same executor, so the service alone runs its commands whichever lane
 * they came by, and the same idempotency by commandId, so a command that came
 * by both runs once.
 */
export class InboxWorker {
  private readonly options: InboxWorkerOptions;
  private readonly unlisten: () => void;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;
  private polls = 0;

  constructor(
    private readonly service: string,
    private readonly execute: CommandExecutor,
    private readonly inbox: CommandInbox,
    listener: PgListener,
    private readonly log: Logger,
    private readonly health?: PostgresHealth,
    options: Partial<InboxWorkerOptions> = {},
  ) {
    this.options = { ...defaultInboxWorkerOptions, ...options };
    this.unlisten = listener.on(INBOX_CHANNEL, (payload) => {
      if (payload === "" || payload === service) this.wake();
    });
    this.timer = setInterval(() => {
      if (++this.polls % PRUNE_EVERY_POLLS === 0) {
        this.inbox.prune(service, this.options.keepAnswersMs).catch((e: unknown) => log.warn(`${service} inbox prune: ${errorMessage(e)}`));
      }
      this.wake();
    }, this.options.pollMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unlisten();
    await this.running;
  }

  private wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => {
        this.health?.reportFailure(error);
        this.log.warn(`${this.service} inbox: ${errorMessage(error)}`);
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async drain(): Promise<void> {
    if (this.health && !this.health.isUp()) return;
    while (!this.stopped) {
      const taken = await this.inbox.claim(this.service, this.options.concurrency, this.options.leaseMs);
      if (taken.length === 0) return;
      const ids = taken.map((item) => item.context.commandId);
      const renewal = setInterval(() => {
        this.inbox.renew(this.service, ids, this.options.leaseMs).catch((e: unknown) => this.log.warn(`${this.service} inbox lease renewal: ${errorMessage(e)}`));
      }, Math.max(50, Math.floor(this.options.leaseMs / 3)));
      // Settled, not all: leases are renewed until every taken command has stopped running.
      const results = await Promise.allSettled(taken.map((item) => this.runOne(item)));
      clearInterval(renewal);
      const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failure) throw failure.reason;
    }
  }

  private async runOne(item: { command: unknown; context: { commandId: string; actor: string }; attempts: number }): Promise<void> {
    const { commandId } = item.context;
    try {
      await this.inbox.answer(this.service, commandId, await answer(async () => toWireOutcome(await this.execute(item.command, item.context))));
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.UNAVAILABLE) {
        this.health?.reportFailure(error);
        throw error; // the lease runs out and the command is taken again once PostgreSQL is back
      }
      this.log.warn(`${this.service} inbox command ${commandId} failed (attempt ${item.attempts}): ${errorMessage(error)}`);
      if (item.attempts < this.options.maxAttempts) {
        await this.inbox.release(this.service, commandId, Math.min(5000, 100 * 2 ** item.attempts));
        return;
      }
      // The cause's text (a database's error, say) is in the log above, never in a reply a client reads.
      const final = error instanceof DomainError ? error : new DomainError(ErrorCode.UNAVAILABLE, `the ${this.service} service failed; see its log`);
      await this.inbox.answer(this.service, commandId, refusalReply(final), true);
    }
  }
}
