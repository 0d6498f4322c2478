import { ConcurrencyError } from "../core/errors";
import type { CommandRecord, EventStore } from "../eventstore/eventStore";
import type { DomainEvent } from "../eventstore/types";
import type { Decider } from "./decider";
import { decideGroup, type GroupCommand } from "./decideGroup";
import { duplicateOutcome, groupAnswers } from "./groupOutcomes";
import { assertSameCommand, fingerprintOf, shownCommandId } from "./idempotency";
import type { CachedStream } from "./stateCache";
import { StreamGroups } from "./streamGroups";
import { type LoadedStream, StreamStates } from "./streamStates";

export type { LoadedStream };

import type { CommandContext, CommandHandlerOptions, CommandOutcome } from "./command";

export type { CommandContext, CommandHandlerOptions, CommandOutcome };


export const defaultCommandHandlerOptions: CommandHandlerOptions = { maxAttempts: 5, snapshotEvery: 100, cacheStreams: 1000, maxGroup: 64 };

/** A command waiting in its stream's queue, with the caller's promise to settle. */
interface QueuedCommand<Command, Event extends DomainEvent> extends GroupCommand<Command> {
  resolve(outcome: CommandOutcome<Event>): void;
  fail(error: unknown): void;
}

/**
 * Load → fold → decide → append with the expected version. On a concurrent
 * write the whole cycle runs again on fresh state, a bounded number of times.
 */
export class CommandHandler<Command, Event extends DomainEvent, State> {
  private readonly options: CommandHandlerOptions;
  private readonly perStream: StreamGroups<QueuedCommand<Command, Event>>;
  private readonly states: StreamStates<Command, Event, State>;

  constructor(
    private readonly store: EventStore,
    private readonly decider: Decider<Command, Event, State>,
    options: Partial<CommandHandlerOptions> = {},
  ) {
    this.options = { ...defaultCommandHandlerOptions, ...options };
    this.states = new StreamStates(store, decider, this.options);
    this.perStream = new StreamGroups(this.options.maxGroup, (streamId, group) => this.runGroup(streamId, group));
  }

  /** Snapshots are tagged with it; null when this handler takes none. */
  get snapshotKey(): string | null {
    return this.states.snapshotKey;
  }

  /** The stream's current state: from its snapshot and the events after it when there is one, else from the start. */
  load(streamId: string): Promise<LoadedStream<State>> {
    return this.states.load(streamId);
  }

  /** Folds every event of the stream, ignoring snapshots: what a snapshot must always equal. */
  loadFromStart(streamId: string): Promise<LoadedStream<State>> {
    return this.states.loadFromStart(streamId);
  }

  /** Replaces the stream's snapshot with one folded from the start; returns its version (0: empty stream). */
  rebuildSnapshot(streamId: string): Promise<number> {
    return this.states.rebuildSnapshot(streamId);
  }

  /** Resolves once every snapshot started so far is written (or has failed). */
  snapshotsSettled(): Promise<void> {
    return this.states.snapshotsSettled();
  }

  /**
   * Commands for one stream run one group after another in this process: on
   * a hot stream (a popular product, a busy account) they would otherwise
   * only collide and retry. A command that finds its stream idle runs alone
   * at once; those that queue meanwhile form the next group (see
   * `handleGroup`). Across processes, optimistic concurrency still decides.
   */
  handle(streamId: string, command: Command, context: CommandContext): Promise<CommandOutcome<Event>> {
    return new Promise((resolve, fail) => this.perStream.add(streamId, { command, context, resolve, fail }));
  }

  private async runGroup(streamId: string, group: QueuedCommand<Command, Event>[]): Promise<void> {
    const [only] = group;
    if (group.length === 1 && only) {
      await this.handleNow(streamId, only.command, only.context).then(only.resolve, only.fail);
      return;
    }
    const unsettled = await this.handleGroup(streamId, group);
    // The group's append failed for a reason of its own (an invalid event, PostgreSQL gone): each command alone gets its own answer.
    for (const item of unsettled) await this.handleNow(streamId, item.command, item.context).then(item.resolve, item.fail);
  }

  /**
   * Group commit. The commands are decided in order on the (cached) state,
   * each on what the ones before it produced, and the events of those that
   * produced any are appended in one statement with one expected version,
   * each command's idempotency record in the same transaction. Each command
   * is answered alone: refused ones with their error, resends with the first
   * result. A conflict with another process runs the whole group again on
   * fresh state, within `maxAttempts`. Returns the commands left unanswered
   * because the append failed otherwise.
   */
  private async handleGroup(streamId: string, group: QueuedCommand<Command, Event>[]): Promise<QueuedCommand<Command, Event>[]> {
    let waiting = group;
    let current = this.states.cache.take(streamId);
    let fromCache = current !== undefined;
    let raced = false;
    for (let attempt = 1; ; ) {
      // Recorded already (a resend, or a racing process won): the first result, if it is the same command from the same sender.
      const recorded = await this.store.findCommandResults(waiting.map((item) => item.context.commandId));
      if (raced && recorded.size === 0) throw new Error(`group append on ${streamId} hit a recorded commandId that cannot be found`);
      raced = false;
      waiting = waiting.filter((item) => {
        const first = recorded.get(item.context.commandId);
        if (!first) return true;
        try {
          assertSameCommand(first, item.command, item.context);
          item.resolve(duplicateOutcome(item.context.commandId, first));
        } catch (error) {
          item.fail(error);
        }
        return false;
      });
      current ??= await this.states.loadOwned(streamId);
      if (waiting.length === 0) {
        this.states.cache.put(streamId, current);
        return [];
      }
      const base = current;
      current = undefined; // decideGroup owns the state now
      const decided = decideGroup(this.decider, base.state, base.version, waiting);
      const contributors = waiting.flatMap((item, i) => {
        const decision = decided.decisions[i];
        return decision?.kind === "events" ? [{ item, events: decision.events }] : [];
      });
      // Without a contributor nothing was folded: the state is still the stream's at base.version.
      const undecided: CachedStream<State> | undefined = decided.changed ? undefined : { ...base, state: decided.state };
      try {
        if (contributors.length > 0) {
          const appended = await this.store.appendCommands(
            streamId,
            base.version,
            contributors.map(({ item, events }) => ({
              events: events.map((e) => ({ type: e.type, data: e.data, metadata: eventMetadata(item.context) })),
              commandId: item.context.commandId,
              actor: item.context.actor,
              fingerprint: fingerprintOf(item.command, item.context),
            })),
          );
          if (appended.kind === "duplicate") {
            // One of these commandIds was recorded by a racing process since the check: the next round answers it.
            raced = true;
            current = undecided;
            continue;
          }
          this.options.onAppended?.(contributors.flatMap(({ events }) => events.map((e) => e.type)));
          const last = appended.results.at(-1)!;
          // The version the state is at: base plus every contributor's events but the last one's (advance checks the rest).
          const before = base.version + contributors.reduce((n, c) => n + c.events.length, 0) - decided.unfolded.length;
          this.states.advance(streamId, { ...base, state: decided.state, version: before }, decided.unfolded, last.streamVersion);
          const answers = groupAnswers(streamId, waiting.map((item) => item.context.commandId), decided.decisions, appended.results);
          waiting.forEach((item, i) => settle(item, answers[i]!));
        } else {
          this.states.cache.put(streamId, { ...base, state: decided.state });
          const answers = groupAnswers(streamId, waiting.map((item) => item.context.commandId), decided.decisions, []);
          waiting.forEach((item, i) => settle(item, answers[i]!));
        }
        return [];
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) return waiting; // the state is dropped: each command alone loads afresh
        // As for one command: a stale cached state costs no attempt, only conflicts on state just read from the store count.
        if (!fromCache && attempt >= this.options.maxAttempts) {
          const failure = new ConcurrencyError(streamId, base.version, attempt);
          waiting.forEach((item) => item.fail(failure));
          return [];
        }
        if (fromCache) fromCache = false;
        else await jitter(attempt++);
        // A state the decisions folded into is no longer the stream's at any version: load instead of catching up.
        current = undecided ? await this.states.catchUp(streamId, undecided) : undefined;
      }
    }
  }

  private async handleNow(streamId: string, command: Command, context: CommandContext): Promise<CommandOutcome<Event>> {
    // A resend answers with the first result, but only when it is the same command from the same sender.
    const answerFirst = (first: CommandRecord): CommandOutcome<Event> => {
      assertSameCommand(first, command, context);
      return duplicateOutcome(context.commandId, first);
    };
    // No lookup by commandId up front (decision 0031): a fresh command, the common case, costs its append
    // alone. A resend is caught where it shows: the append refuses its commandId, or, when the state has
    // moved on since the first run, its decision fails or is empty; each of those looks the first result up.
    const firstIfResent = async (): Promise<CommandOutcome<Event> | null> => {
      const first = await this.store.findCommandResult(context.commandId);
      return first ? answerFirst(first) : null;
    };

    // The cached state, when there is one, saves reading and folding the stream. It is owned by this call
    // until it is put back; if it is stale, the append's expected version makes that append fail.
    let current = this.states.cache.take(streamId);
    let fromCache = current !== undefined;
    for (let attempt = 1; ; ) {
      current ??= await this.states.loadOwned(streamId);
      const { state, version } = current;
      let events: Event[];
      try {
        events = this.decider.decide(command, state);
      } catch (error) {
        this.states.cache.put(streamId, current); // decide changes nothing: the state is still the stream's at `version`
        const resent = await firstIfResent();
        if (resent) return resent;
        throw error;
      }
      if (events.length === 0) {
        this.states.cache.put(streamId, current);
        const resent = await firstIfResent();
        if (resent) return resent;
        return { commandId: context.commandId, streamId, streamVersion: version, position: null, events, eventTypes: [], duplicate: false };
      }
      const metadata = eventMetadata(context);
      try {
        const result = await this.store.append(
          streamId,
          version === 0 ? "no_stream" : version,
          events.map((e) => ({ type: e.type, data: e.data, metadata })),
          { commandId: context.commandId, actor: context.actor, fingerprint: fingerprintOf(command, context) },
        );
        // A duplicate (or any error below) leaves `current` out of the cache: the next command loads the stream afresh.
        if (result.duplicate) {
          const first = await this.store.findCommandResult(context.commandId);
          return first ? answerFirst(first) : duplicateOutcome(context.commandId, result);
        }
        this.options.onAppended?.(result.eventTypes);
        this.states.advance(streamId, current, events, result.streamVersion);
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
        // A stale cached state costs no attempt: only conflicts on state just read from the store count.
        if (!fromCache && attempt >= this.options.maxAttempts) throw new ConcurrencyError(streamId, version, attempt);
        // A racing duplicate of this same command may have won: answer with its result.
        const winner = await this.store.findCommandResult(context.commandId);
        if (winner) return answerFirst(winner);
        if (fromCache) fromCache = false;
        else await jitter(attempt++);
        current = await this.states.catchUp(streamId, current);
      }
    }
  }
}

function settle<Event extends DomainEvent>(
  item: { resolve(outcome: CommandOutcome<Event>): void; fail(error: unknown): void },
  answer: { ok: true; outcome: CommandOutcome<Event> } | { ok: false; error: unknown },
): void {
  if (answer.ok) item.resolve(answer.outcome);
  else item.fail(answer.error);
}

/** What every event a command produces carries: who sent it and why. */
function eventMetadata(context: CommandContext): { correlationId: string; causationId: string; commandId: string; actor: string } {
  return {
    correlationId: context.correlationId ?? shownCommandId(context),
    causationId: context.causationId ?? shownCommandId(context),
    commandId: shownCommandId(context),
    actor: context.actor,
  };
}

/** Spreads retries so that racing writers do not collide again in lockstep. */
function jitter(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(50, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
