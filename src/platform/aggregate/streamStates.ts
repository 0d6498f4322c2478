import { isDeepStrictEqual } from "node:util";
import type { EventStore } from "../eventstore/eventStore";
import type { DomainEvent, RecordedEvent } from "../eventstore/types";
import type { CommandHandlerOptions } from "./command";
import { ownedInitialState, type Decider } from "./decider";
import { StateCache, type CachedStream } from "./stateCache";

export interface LoadedStream<State> {
  state: State;
  version: number;
  /** The events folded on top of the snapshot (all of them without one). */
  events: RecordedEvent[];
  /** Version of the snapshot the fold started from; 0 when it started from the beginning. */
  snapshotVersion: number;
}

/**
 * Where a command handler's states come from: the cache of the last state per
 * stream, snapshots (taken in the background, read with the events after
 * them), and folds of the log. The handler decides; this keeps the state it
 * decides on.
 */
export class StreamStates<Command, Event extends DomainEvent, State> {
  /** Snapshots are tagged with it; null when no snapshots are taken. */
  readonly snapshotKey: string | null;
  readonly cache: StateCache<State>;
  private readonly pendingSnapshots = new Set<Promise<void>>();

  constructor(
    private readonly store: EventStore,
    private readonly decider: Decider<Command, Event, State>,
    private readonly options: Pick<CommandHandlerOptions, "cacheStreams" | "snapshotEvery" | "onSnapshotError">,
  ) {
    this.cache = new StateCache(options.cacheStreams);
    // Upcasting makes state depend on the events' current versions too, so a new event version retires old snapshots.
    this.snapshotKey =
      decider.stateVersion && options.snapshotEvery > 0 ? `${decider.stateVersion}/${store.registry?.fingerprint ?? "unversioned"}` : null;
  }

  /** The stream's current state: from its snapshot and the events after it when there is one, else from the start. */
  async load(streamId: string): Promise<LoadedStream<State>> {
    if (this.snapshotKey === null) return this.loadFromStart(streamId);
    const { snapshot, events } = await this.store.readStreamFromSnapshot(streamId, this.snapshotKey);
    const state = this.foldOnto(snapshot ? (snapshot.state as State) : ownedInitialState(this.decider), events);
    const snapshotVersion = snapshot?.streamVersion ?? 0;
    return { state, version: events.at(-1)?.streamVersion ?? snapshotVersion, events, snapshotVersion };
  }

  /** Folds every event of the stream, ignoring snapshots: what a snapshot must always equal. */
  async loadFromStart(streamId: string): Promise<LoadedStream<State>> {
    const events = await this.store.readStream(streamId);
    return { state: this.foldOnto(ownedInitialState(this.decider), events), version: events.at(-1)?.streamVersion ?? 0, events, snapshotVersion: 0 };
  }

  /** Replaces the stream's snapshot with one folded from the start; returns its version (0: empty stream). */
  async rebuildSnapshot(streamId: string): Promise<number> {
    if (this.snapshotKey === null) throw new Error("this handler takes no snapshots (no stateVersion, or snapshotEvery is 0)");
    const { state, version } = await this.loadFromStart(streamId);
    if (version > 0) await this.saveSnapshot(streamId, version, state, true);
    return version;
  }

  /** Resolves once every snapshot started so far is written (or has failed). */
  async snapshotsSettled(): Promise<void> {
    while (this.pendingSnapshots.size > 0) await Promise.all(this.pendingSnapshots);
  }

  private foldOnto(state: State, events: readonly RecordedEvent[]): State {
    for (const event of events) state = this.decider.evolve(state, event as unknown as Event);
    return state;
  }

  /** The state a fold of the store gives, owned by the caller (load returns a freshly folded one). */
  async loadOwned(streamId: string): Promise<CachedStream<State>> {
    const { state, version, snapshotVersion } = await this.load(streamId);
    return { state, version, snapshotVersion };
  }

  /** After a conflict: only the events written since `stale.version`, folded onto its state (decide left it untouched). */
  async catchUp(streamId: string, stale: CachedStream<State>): Promise<CachedStream<State>> {
    const events = await this.store.readStream(streamId, { fromVersion: stale.version + 1 });
    return { ...stale, state: this.foldOnto(stale.state, events), version: events.at(-1)?.streamVersion ?? stale.version };
  }

  /**
   * After a successful append: folds what was appended onto the state (in
   * place), takes a snapshot when one is due, and caches the result for the
   * stream's next command.
   */
  advance(streamId: string, current: CachedStream<State>, events: readonly Event[], streamVersion: number): void {
    // The appended events are exactly versions current.version+1..streamVersion, so folding them gives the state at streamVersion.
    if (streamVersion !== current.version + events.length) return; // not what was expected: the next command loads instead
    let state = current.state;
    for (const event of events) state = this.decider.evolve(state, event);
    let snapshotVersion = current.snapshotVersion;
    if (this.snapshotKey !== null && streamVersion - snapshotVersion >= this.options.snapshotEvery) {
      this.snapshotInBackground(streamId, streamVersion, state);
      snapshotVersion = streamVersion;
    }
    this.cache.put(streamId, { state, version: streamVersion, snapshotVersion });
  }

  /** Off the command's path: the caller has its answer before the snapshot is written, and never sees it fail. */
  private snapshotInBackground(streamId: string, streamVersion: number, state: State): void {
    const pending = this.saveSnapshot(streamId, streamVersion, state)
      .catch((error: unknown) => {
        // Forget the cached state, whose snapshot version says "taken": the next command loads the stream and tries again.
        this.cache.take(streamId);
        this.options.onSnapshotError?.(streamId, error);
      })
      .finally(() => this.pendingSnapshots.delete(pending));
    this.pendingSnapshots.add(pending);
  }

  private async saveSnapshot(streamId: string, streamVersion: number, state: State, replace = false): Promise<void> {
    // Copied before the first await: the cached state goes on being updated in place by later commands.
    const json = JSON.stringify(state);
    const copy: unknown = JSON.parse(json);
    // A Map, Set, Date or undefined would come back as something else: refuse rather than cache a different state.
    if (!isDeepStrictEqual(copy, state)) {
      throw new Error(`the state of ${streamId} is not plain JSON, so it cannot be snapshotted`);
    }
    await this.store.snapshots.save(streamId, streamVersion, this.snapshotKey!, copy, replace);
  }
}
