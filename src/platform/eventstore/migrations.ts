import type { Pool } from "pg";

/**
 * Versioned, append-only list of schema changes. Never edit a shipped entry:
 * add a new one. Each runs in its own transaction under an advisory lock, so
 * several processes starting at once apply each migration exactly once.
 */
export const migrations: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "event log",
    sql: `
      CREATE TABLE events (
        global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        event_id uuid NOT NULL,
        stream_id text NOT NULL,
        stream_version integer NOT NULL CHECK (stream_version > 0),
        type text NOT NULL,
        schema_version integer NOT NULL DEFAULT 1,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        CONSTRAINT events_event_id_unique UNIQUE (event_id),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      );
      CREATE INDEX events_commit_order ON events (transaction_id, global_position);

      CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the event log is append-only: % is not allowed', TG_OP;
      END $$;
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

      CREATE TABLE command_results (
        command_id text PRIMARY KEY,
        stream_id text NOT NULL,
        result jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 2,
    name: "log subscription checkpoints",
    sql: `
      CREATE TABLE subscription_checkpoints (
        name text PRIMARY KEY,
        transaction_id xid8 NOT NULL,
        global_position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 3,
    name: "command inbox (the command lane used while Redis is down)",
    sql: `
      CREATE TABLE command_inbox (
        service text NOT NULL,
        command_id text NOT NULL,
        command jsonb NOT NULL,
        context jsonb NOT NULL,
        enqueued_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz NOT NULL DEFAULT '-infinity',
        attempts integer NOT NULL DEFAULT 0,
        reply jsonb,
        failed boolean NOT NULL DEFAULT false,
        handled_at timestamptz,
        PRIMARY KEY (service, command_id)
      );
      CREATE INDEX command_inbox_pending ON command_inbox (service, enqueued_at) WHERE reply IS NULL;
    `,
  },
  {
    version: 4,
    name: "stream snapshots",
    sql: `
      CREATE TABLE snapshots (
        stream_id text PRIMARY KEY,
        stream_version integer NOT NULL CHECK (stream_version > 0),
        state_version text NOT NULL,
        state jsonb NOT NULL,
        taken_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 5,
    name: "idempotency records name their sender and command",
    // Who first used a key and a hash of what they asked (type, target, payload): a resend must match both,
    // or it is IDEMPOTENCY_KEY_REUSED. Rows written before this migration have NULLs and match any resend.
    sql: `
      ALTER TABLE command_results ADD COLUMN actor text, ADD COLUMN fingerprint text;
      ALTER TABLE command_inbox ADD COLUMN fingerprint text;
    `,
  },
  {
    version: 6,
    name: "checkpoints keep the highest lease (fencing) token that stored them",
    // 0 for rows written before leases: any owner's first store is at least that.
    sql: `ALTER TABLE subscription_checkpoints ADD COLUMN fence_token bigint NOT NULL DEFAULT 0;`,
  },
  {
    version: 7,
    name: "processor leases and members (one owner per processor segment)",
    // A lease's token grows by one at each change of owner; the owner stores it with every checkpoint
    // (migration 6's fence_token), so a stale owner's store is refused. See docs/decisions/0026-processor-leases.md.
    sql: `
      CREATE TABLE processor_leases (
        processor text NOT NULL,
        segment integer NOT NULL,
        owner text,
        token bigint NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (processor, segment)
      );
      CREATE TABLE processor_members (
        grp text NOT NULL,
        member text NOT NULL,
        ordinal integer,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (grp, member)
      );
    `,
  },
  {
    version: 8,
    name: "open saga instances, kept by the appends that open and end them",
    // The saga sweep (platform/saga/sagaSweep.ts) wants the instances still running. Found from the log, that was a
    // scan of every saga event ever written, every few seconds in every saga runner; this table holds only the open
    // ones, and the trigger keeps it in the appending transaction. Saga streams are 'saga.<saga>-<id>' (sagaStreamId);
    // SagaStarted and SagaRedriven open an instance, SagaFinished and SagaFailed end it, and no other event follows an
    // end (the runner appends only to a running instance). The WHEN clause keeps every other append off the trigger.
    // The trigger is created before the backfill: its lock waits for appends in flight and holds off new ones, so the
    // backfill sees every saga event and every later one goes through the trigger.
    sql: `
      CREATE TABLE open_sagas (stream_id text PRIMARY KEY);

      CREATE FUNCTION track_open_sagas() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type IN ('SagaFinished', 'SagaFailed') THEN
          DELETE FROM open_sagas WHERE stream_id = NEW.stream_id;
        ELSE
          INSERT INTO open_sagas (stream_id) VALUES (NEW.stream_id) ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER events_track_open_sagas AFTER INSERT ON events FOR EACH ROW
        WHEN (NEW.stream_id >= 'saga.' AND NEW.stream_id < 'saga/'
              AND NEW.type IN ('SagaStarted', 'SagaRedriven', 'SagaFinished', 'SagaFailed'))
        EXECUTE FUNCTION track_open_sagas();

      INSERT INTO open_sagas (stream_id)
      SELECT stream_id FROM (
        SELECT DISTINCT ON (stream_id) stream_id, type FROM events
        WHERE stream_id >= 'saga.' AND stream_id < 'saga/'
          AND type IN ('SagaStarted', 'SagaRedriven', 'SagaFinished', 'SagaFailed')
        ORDER BY stream_id, stream_version DESC) AS last
      WHERE type NOT IN ('SagaFinished', 'SagaFailed');
    `,
  },
];

const MIGRATION_LOCK = 0x6576_6e74; // "evnt": any constant shared by all processes

export async function migrate(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
    const done = new Set(rows.map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
        await client.query("COMMIT");
        applied.push(m.version);
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return applied;
}
