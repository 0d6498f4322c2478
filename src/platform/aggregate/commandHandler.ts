import { ConcurrencyError } from "../errors";
import { KeyedSerializer } from "../serialize";
import type { EventStore } from "../eventstore/eventStore";
import type { LogPosition } from "../eventstore/logPosition";
import type { DomainEvent, RecordedEvent } from "../eventstore/types";
import type { Decider } from "./decider";

/** Who sent a command and why; copied into every event it produces. */
export interface CommandContext {
  commandId: string;
  correlationId?: string;
  causationId?: string;
  actor: string;
}

export interface CommandOutcome<Event extends DomainEvent = DomainEvent> {
  commandId: string;
  streamId: string;
  streamVersion: number;
  /** Position of the last event written, or null when the command changed nothing. */
  position: LogPosition | null;
  /** The events this call appended (empty for a duplicate or a no-op). */
  events: Event[];
  /** Types of the events the command produced, also for a duplicate: what its first run appended. */
  eventTypes: string[];
  /** True when the command had already been applied: nothing was appended this time. */
  duplicate: boolean;
}

export interface CommandHandlerOptions {
  /** How many times to reload and decide again after a concurrent write. */
  maxAttempts: number;
  /** Called after a successful append (e.g. to wake projectors). Never awaited on the hot path's result. */
  onAppended?: () => void;
}

export const defaultCommandHandlerOptions: CommandHandlerOptions = { maxAttempts: 5 };

/**
 * Load → fold → decide → append with the expected version. On a concurrent
 * write the whole cycle runs again on fresh state, a bounded number of times.
 */
export class CommandHandler<Command, Event extends DomainEvent, State> {
  private readonly options: CommandHandlerOptions;
  private readonly perStream = new KeyedSerializer();

  constructor(
    private readonly store: EventStore,
    private readonly decider: Decider<Command, Event, State>,
    options: Partial<CommandHandlerOptions> = {},
  ) {
    this.options = { ...defaultCommandHandlerOptions, ...options };
  }

  async load(streamId: string): Promise<{ state: State; version: number; events: RecordedEvent[] }> {
    const events = await this.store.readStream(streamId);
    let state = this.decider.initialState;
    for (const event of events) state = this.decider.evolve(state, event as unknown as Event);
    return { state, version: events.at(-1)?.streamVersion ?? 0, events };
  }

  /**
   * Commands for one stream run one after another in this process: on a hot
   * stream (a popular product, a busy account) they would otherwise only
   * collide and retry. Across processes, optimistic concurrency still decides.
   */
  handle(streamId: string, command: Command, context: CommandContext): Promise<CommandOutcome<Event>> {
    return this.perStream.run(streamId, () => this.handleNow(streamId, command, context));
  }

  private async handleNow(streamId: string, command: Command, context: CommandContext): Promise<CommandOutcome<Event>> {
    const previous = await this.store.findCommandResult(context.commandId);
    if (previous) return duplicateOutcome(context.commandId, previous);

    for (let attempt = 1; ; attempt++) {
      const { state, version } = await this.load(streamId);
      const events = this.decider.decide(command, state);
      if (events.length === 0) {
        return { commandId: context.commandId, streamId, streamVersion: version, position: null, events, eventTypes: [], duplicate: false };
      }
      const metadata = {
        correlationId: context.correlationId ?? context.commandId,
        causationId: context.causationId ?? context.commandId,
        commandId: context.commandId,
        actor: context.actor,
      };
      try {
        const result = await this.store.append(
          streamId,
          version === 0 ? "no_stream" : version,
          events.map((e) => ({ type: e.type, data: e.data, metadata })),
          { commandId: context.commandId },
        );
        if (result.duplicate) return duplicateOutcome(context.commandId, result);
        this.options.onAppended?.();
        return {
          commandId: context.commandId,
          streamId,
          streamVersion: result.streamVersion,
          position: result.position,
          events,
          eventTypes: result.eventTypes,
          duplicate: false,
        };
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        if (attempt >= this.options.maxAttempts) throw new ConcurrencyError(streamId, version, attempt);
        // A racing duplicate of this same command may have won: answer with its result.
        const winner = await this.store.findCommandResult(context.commandId);
        if (winner) return duplicateOutcome(context.commandId, winner);
        await jitter(attempt);
      }
    }
  }
}

function duplicateOutcome<Event extends DomainEvent>(
  commandId: string,
  previous: { streamId: string; streamVersion: number; position: LogPosition; eventTypes: string[] },
): CommandOutcome<Event> {
  const { streamId, streamVersion, position, eventTypes } = previous;
  return { commandId, streamId, streamVersion, position, events: [], eventTypes, duplicate: true };
}

/** Spreads retries so that racing writers do not collide again in lockstep. */
function jitter(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(50, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
