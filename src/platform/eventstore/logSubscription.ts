import { errorMessage } from "../errors";
import type { Logger } from "../observability/logger";
import type { EventStore, Queryable } from "./eventStore";
import { LOG_START, type LogPosition } from "./logPosition";
import type { RecordedEvent } from "./types";

export interface LogSubscriptionOptions {
  batchSize: number;
  /** Pause between polls once caught up. */
  idleMs: number;
  /** Pause before retrying a batch whose handler failed. */
  retryMs: number;
}

export const defaultLogSubscriptionOptions: LogSubscriptionOptions = { batchSize: 200, idleMs: 50, retryMs: 500 };

/**
 * A durable reader of the log for processes that react to events (sagas,
 * choreography). The checkpoint lives in PostgreSQL and moves only after the
 * handler succeeded, so delivery is at least once: handlers must be
 * idempotent, which they are by sending commands with deterministic ids.
 */
export class LogSubscription {
  private readonly options: LogSubscriptionOptions;
  private running: Promise<void> | null = null;
  private stopping = false;
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly name: string,
    private readonly db: Queryable,
    private readonly store: EventStore,
    private readonly eventTypes: ReadonlySet<string>,
    private readonly handle: (events: RecordedEvent[]) => Promise<void>,
    private readonly log: Logger,
    options: Partial<LogSubscriptionOptions> = {},
  ) {
    this.options = { ...defaultLogSubscriptionOptions, ...options };
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.running;
  }

  /** Never rejects: PostgreSQL going away only pauses it, and it resumes from its checkpoint. */
  private async loop(): Promise<void> {
    let checkpoint: LogPosition | null = null;
    while (!this.stopping) {
      try {
        checkpoint ??= await this.load();
        const page = await this.store.readAll(checkpoint, this.options.batchSize);
        if (page.events.length === 0) {
          await this.pause(this.options.idleMs);
          continue;
        }
        const relevant = page.events.filter((e) => this.eventTypes.has(e.type));
        if (relevant.length > 0) await this.handle(relevant);
        await this.save(page.checkpoint);
        checkpoint = page.checkpoint;
      } catch (error) {
        this.log.warn({ subscription: this.name, err: errorMessage(error) }, `subscription ${this.name}: ${errorMessage(error)}; retrying`);
        await this.pause(this.options.retryMs);
        checkpoint = await this.load().catch(() => checkpoint);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async load(): Promise<LogPosition> {
    const { rows } = await this.db.query(
      "SELECT transaction_id::text AS tx, global_position::text AS pos FROM subscription_checkpoints WHERE name = $1",
      [this.name],
    );
    const row = rows[0];
    return row ? { transactionId: BigInt(row.tx), globalPosition: BigInt(row.pos) } : LOG_START;
  }

  private async save(position: LogPosition): Promise<void> {
    await this.db.query(
      `INSERT INTO subscription_checkpoints (name, transaction_id, global_position) VALUES ($1, $2::text::xid8, $3)
       ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
         global_position = EXCLUDED.global_position, updated_at = now()
       WHERE (subscription_checkpoints.transaction_id, subscription_checkpoints.global_position)
           < (EXCLUDED.transaction_id, EXCLUDED.global_position)`,
      [this.name, position.transactionId.toString(), position.globalPosition.toString()],
    );
  }
}
