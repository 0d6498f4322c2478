import type { Queryable } from "../eventstore/queryable";

/** A work unit: one segment of one log processor (a projection, a reaction, the saga starter). */
export interface WorkUnit {
  processor: string;
  segment: number;
}

export function unitKey(unit: WorkUnit): string {
  return `${unit.processor}#${unit.segment}`;
}

/** A lease as the table holds it; `msLeft` is measured by PostgreSQL's clock, 0 once expired. */
export interface LeaseRow extends WorkUnit {
  owner: string | null;
  token: number;
  msLeft: number;
}

/** A live replica of a group (a role: projector, saga, a service), as its last heartbeat left it. */
export interface MemberRow {
  member: string;
  ordinal: number | null;
  msLeft: number;
}

/**
 * The leases in PostgreSQL (table processor_leases, migration 6), each
 * operation one statement. Expiry is judged by the database's clock only, so
 * replicas whose clocks disagree still agree on who holds what.
 */
export class LeaseStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Takes the lease if it is free, released, expired, or already ours; the
   * token grows by one whenever the owner changes. Null when another holds it.
   */
  async acquire(unit: WorkUnit, owner: string, periodMs: number): Promise<number | null> {
    const { rows } = await this.db.query<{ token: string }>(
      `INSERT INTO processor_leases AS l (processor, segment, owner, token, expires_at)
       VALUES ($1, $2, $3, 1, now() + $4 * interval '1 millisecond')
       ON CONFLICT (processor, segment) DO UPDATE
         SET owner = EXCLUDED.owner,
             token = CASE WHEN l.owner IS NOT DISTINCT FROM EXCLUDED.owner THEN l.token ELSE l.token + 1 END,
             expires_at = EXCLUDED.expires_at
         WHERE l.owner IS NULL OR l.owner = EXCLUDED.owner OR l.expires_at <= now()
       RETURNING token::text AS token`,
      [unit.processor, unit.segment, owner, periodMs],
    );
    const row = rows[0];
    return row ? Number(row.token) : null;
  }

  /**
   * The heartbeat of a member and the renewal of every lease it holds, in one
   * statement (one `now()`: a member and its leases expire together, so a
   * standby that sees the member gone can take its units at once). Answers
   * the units renewed: a lease missing from it was taken over, and its holder
   * must stop before its next batch.
   */
  async beat(group: string, member: string, ordinal: number | null, periodMs: number, held: ReadonlyArray<WorkUnit & { token: number }>): Promise<WorkUnit[]> {
    const { rows } = await this.db.query<{ processor: string; segment: number }>(
      `WITH beat AS (
         INSERT INTO processor_members (grp, member, ordinal, expires_at) VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
         ON CONFLICT (grp, member) DO UPDATE SET ordinal = EXCLUDED.ordinal, expires_at = EXCLUDED.expires_at
       ), gone AS (
         DELETE FROM processor_members WHERE grp = $1 AND member <> $2 AND expires_at < now() - interval '1 hour'
       )
       UPDATE processor_leases l SET expires_at = now() + $4 * interval '1 millisecond'
       FROM unnest($5::text[], $6::int[], $7::bigint[]) AS h(processor, segment, token)
       WHERE l.processor = h.processor AND l.segment = h.segment AND l.token = h.token AND l.owner = $2
       RETURNING l.processor, l.segment`,
      [group, member, ordinal, periodMs, held.map((u) => u.processor), held.map((u) => u.segment), held.map((u) => String(u.token))],
    );
    return rows.map((r) => ({ processor: r.processor, segment: r.segment }));
  }

  /** Gives the lease up at a checkpoint; refused (false) when it was taken over meanwhile. */
  async release(unit: WorkUnit, owner: string, token: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE processor_leases SET owner = NULL, expires_at = '-infinity'
       WHERE processor = $1 AND segment = $2 AND owner = $3 AND token = $4`,
      [unit.processor, unit.segment, owner, String(token)],
    );
    return rowCount === 1;
  }

  /** The live members of a group. */
  async members(group: string): Promise<MemberRow[]> {
    const { rows } = await this.db.query<{ member: string; ordinal: number | null; ms_left: number }>(
      `SELECT member, ordinal, extract(epoch FROM expires_at - now()) * 1000 AS ms_left
       FROM processor_members WHERE grp = $1 AND expires_at > now()`,
      [group],
    );
    return rows.map((r) => ({ member: r.member, ordinal: r.ordinal, msLeft: Number(r.ms_left) }));
  }

  /** The leases of these processors, held or not. */
  async leases(processors: readonly string[]): Promise<LeaseRow[]> {
    const { rows } = await this.db.query<{ processor: string; segment: number; owner: string | null; token: string; ms_left: number }>(
      `SELECT processor, segment, owner, token::text AS token,
              extract(epoch FROM GREATEST(expires_at, now()) - now()) * 1000 AS ms_left
       FROM processor_leases WHERE processor = ANY($1::text[])`,
      [processors],
    );
    return rows.map((r) => ({ processor: r.processor, segment: r.segment, owner: r.owner, token: Number(r.token), msLeft: r.owner === null ? 0 : Number(r.ms_left) }));
  }

  /** A member leaving on purpose: the others reassign its units at their next heartbeat. */
  async leave(group: string, member: string): Promise<void> {
    await this.db.query("DELETE FROM processor_members WHERE grp = $1 AND member = $2", [group, member]);
  }
}
