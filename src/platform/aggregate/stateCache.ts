/** A stream's state as this handler last folded it, and the version it is at. */
export interface CachedStream<State> {
  state: State;
  version: number;
  /** Version of the stream's last snapshot this handler knows of (0: none). */
  snapshotVersion: number;
}

/**
 * The last folded state of the most recently used streams, bounded by stream
 * count (least recently used goes first). It is a guess, never the truth: a
 * command decided on it appends with its version as the expected version, so
 * a write by anyone else makes that append fail and the handler reloads.
 * 0 streams: nothing is kept.
 */
export class StateCache<State> {
  private readonly entries = new Map<string, CachedStream<State>>();

  constructor(private readonly maxStreams: number) {}

  /** Removes and returns the entry: its state is the caller's now (evolve may update it in place). */
  take(streamId: string): CachedStream<State> | undefined {
    const entry = this.entries.get(streamId);
    this.entries.delete(streamId);
    return entry;
  }

  /** Hands a state over to the cache; the caller must not touch it afterwards. */
  put(streamId: string, entry: CachedStream<State>): void {
    if (this.maxStreams <= 0) return;
    this.entries.delete(streamId); // re-inserted last: a Map iterates in insertion order, so the first key is the least recently used
    this.entries.set(streamId, entry);
    while (this.entries.size > this.maxStreams) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
