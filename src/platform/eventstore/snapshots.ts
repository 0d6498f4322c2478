import type { Queryable } from "./queryable";

/** A stream's folded state as of `streamVersion`. */
export interface Snapshot {
  streamVersion: number;
  state: unknown;
}

/**
 * Snapshots are a cache of folded state, never a source of truth: each is
 * tagged with the state version of the code that folded it, readers ignore
 * any other, and deleting them all only costs the next loads a full fold.
 */
export class SnapshotStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Keeps one snapshot per stream. A newer one replaces an older one, and one
   * of another state version replaces it whatever its age: the code that
   * writes is the code that reads. `replace` overwrites it in any case (a rebuild).
   */
  async save(streamId: string, streamVersion: number, stateVersion: string, state: unknown, replace = false): Promise<void> {
    await this.db.query(
      `INSERT INTO snapshots (stream_id, stream_version, state_version, state) VALUES ($1, $2, $3, $4)
       ON CONFLICT (stream_id) DO UPDATE
         SET stream_version = EXCLUDED.stream_version, state_version = EXCLUDED.state_version,
             state = EXCLUDED.state, taken_at = now()
       WHERE $5 OR snapshots.state_version <> EXCLUDED.state_version OR snapshots.stream_version < EXCLUDED.stream_version`,
      [streamId, streamVersion, stateVersion, JSON.stringify(state), replace],
    );
  }

  async find(streamId: string): Promise<(Snapshot & { stateVersion: string }) | null> {
    const { rows } = await this.db.query<{ stream_version: number; state_version: string; state: unknown }>(
      "SELECT stream_version, state_version, state FROM snapshots WHERE stream_id = $1",
      [streamId],
    );
    const row = rows[0];
    return row ? { streamVersion: row.stream_version, stateVersion: row.state_version, state: row.state } : null;
  }

  /** Deletes the snapshots of one stream, or all of them; returns how many went. */
  async clear(streamId?: string): Promise<number> {
    const { rowCount } = streamId
      ? await this.db.query("DELETE FROM snapshots WHERE stream_id = $1", [streamId])
      : await this.db.query("DELETE FROM snapshots");
    return rowCount ?? 0;
  }
}
