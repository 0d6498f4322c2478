import { errorMessage } from "../core/errors";
import type { EventStore } from "../eventstore/eventStore";
import type { LogPosition } from "../eventstore/logPosition";
import type { DomainEvent, RecordedEvent } from "../eventstore/types";
import type { Checkpointer, Fence, StoreResult } from "./checkpointer";
import { ProcessorEventError } from "./errors";
import { handles, type HandledTypes, type ParkedNote, type ProcessorStep, type StepResult } from "./types";

/** What a reactor-style processor is: a name, the events it handles and what it does with one. */
export interface ReactorDefinition<E extends DomainEvent = DomainEvent> {
  readonly name: string;
  readonly eventTypes: HandledTypes<E>;
  /** Runs at least once per event: effects must be idempotent (deterministic command ids). */
  handle(event: RecordedEvent<E>): Promise<void>;
}

export interface CheckpointedStepOptions {
  batchSize: number;
  /**
   * Failed attempts at one event before it is parked and passed. Infinite by
   * default for reactions: a reaction that fails because a service is down
   * must wait for it, not be dropped.
   */
  maxEventAttempts: number;
  /** Told of each event parked (logged and reported by the caller). */
  onParked?: (event: RecordedEvent, error: unknown) => void;
  /**
   * The lease token this processor stores its checkpoint under, asked at the
   * start of each step: once a higher token was stored, its stores are refused
   * (FENCED) and the step reports `superseded`. Without it stores are not fenced.
   */
  fence?: () => Fence | undefined;
}

/**
 * One batch of a processor whose checkpoint lives apart from its effects:
 * handle each event, then compare-and-set the checkpoint. An event that
 * fails commits the events before it and fails the step (the next step
 * starts at that event); after `maxEventAttempts` it is parked instead.
 */
export class CheckpointedStep<E extends DomainEvent> implements ProcessorStep {
  readonly name: string;
  private readonly relevant: (event: RecordedEvent) => event is RecordedEvent<E>;
  /** The stored checkpoint as last seen: reloaded after any failure or refused commit. */
  private known: LogPosition | null = null;
  /** The lease token of the last step (null without leases). */
  private token: number | null = null;
  /** Failed attempts per event id; in memory, as delivery is at least once anyway. */
  private readonly attempts = new Map<string, number>();

  constructor(
    private readonly definition: ReactorDefinition<E>,
    private readonly store: EventStore,
    private readonly checkpointer: Checkpointer,
    private readonly options: CheckpointedStepOptions,
  ) {
    this.name = definition.name;
    this.relevant = handles(definition.eventTypes);
  }

  async step(): Promise<StepResult> {
    try {
      return await this.readAndHandle();
    } catch (error) {
      this.known = null;
      throw error;
    }
  }

  private async readAndHandle(): Promise<StepResult> {
    const fence = this.options.fence?.();
    // A new token: the unit was owned elsewhere meanwhile, so the checkpoint seen last is stale.
    if (fence && fence.token !== this.token) this.known = null;
    this.token = fence?.token ?? null;
    const from = (this.known ??= await this.checkpointer.read(this.name));
    const page = await this.store.readAll(from, this.options.batchSize);
    if (page.events.length === 0) return { kind: "idle", checkpoint: from };
    const parked: ParkedNote[] = [];
    let handled = 0;
    for (const [index, event] of page.events.entries()) {
      if (this.relevant(event)) {
        handled += 1;
        try {
          await this.definition.handle(event);
          this.attempts.delete(event.eventId);
        } catch (error) {
          const attempts = (this.attempts.get(event.eventId) ?? 0) + 1;
          this.attempts.set(event.eventId, attempts);
          if (attempts < this.options.maxEventAttempts) {
            const before = page.events[index - 1];
            if (before) await this.commit(from, before.position, fence);
            throw new ProcessorEventError(this.name, event, error, attempts, this.options.maxEventAttempts);
          }
          this.attempts.delete(event.eventId);
          parked.push({ eventId: event.eventId, error: errorMessage(error) });
          this.options.onParked?.(event, error);
        }
      }
    }
    const stored = await this.commit(from, page.checkpoint, fence);
    if (!stored.success) return stored.reason === "FENCED" ? { kind: "superseded", fenced: true } : { kind: "superseded" };
    // Short of a batch: the read reached the visible head, so a drain stops without reading again to find
    // nothing (what is appended later wakes the processor, or its next poll finds it).
    const atHead = page.events.length < this.options.batchSize;
    return { kind: "applied", events: page.events.length, handled, checkpoint: page.checkpoint, parked, ...(atHead ? { atHead } : {}) };
  }

  private async commit(from: LogPosition, next: LogPosition, fence: Fence | undefined): Promise<StoreResult> {
    const stored = await this.checkpointer.store(this.name, from, next, fence);
    this.known = stored.success ? stored.checkpoint : null;
    return stored;
  }
}
