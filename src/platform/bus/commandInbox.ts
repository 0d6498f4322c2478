import type { CommandContext } from "../aggregate/commandHandler";
import type { Queryable } from "../eventstore/eventStore";
import { createHash } from "node:crypto";
import { fingerprintOf, shownCommandId } from "../aggregate/idempotency";
import { IdempotencyKeyReusedError } from "../core/errors";
import { refusalReply } from "./reply";
import { type CommandReply, parseCommandReply } from "./wire";

/** Notified (payload: service) when a command lands in the inbox. */
export const INBOX_CHANNEL = "eventline_command_inbox";
/** Notified (payload: service + "\n" + commandId) when an inbox command has its reply. */
export const REPLY_CHANNEL = "eventline_command_replies";

/** Sender and command in one hash: a row answers or re-opens only for the same of both. */
function inboxIdentity(command: unknown, context: CommandContext): string {
  return createHash("sha256").update(`${context.actor}\n${fingerprintOf(command, context)}`).digest("hex");
}

export function replyKey(service: string, commandId: string): string {
  return `${service}\n${commandId}`;
}

/**
 * The `command_inbox` table: the command lane that needs only PostgreSQL,
 * used while Redis (and with it the BullMQ queues) is unreachable. A row is
 * one command for one service, keyed by its commandId; its reply is written
 * by the owning service. The SQL lives here, the waiting and the working in
 * InboxCommandBus and InboxWorker.
 */
export class CommandInbox {
  constructor(private readonly db: Queryable) {}

  /**
   * Adds a command, or re-opens one whose earlier run failed for good on a
   * transient error (as a resend retries a failed job). Returns the stored
   * reply when the command was already answered, and IDEMPOTENCY_KEY_REUSED
   * (as a reply) when the key holds another command or another sender's:
   * such a row is neither re-opened nor answered from.
   */
  async put(service: string, command: unknown, context: CommandContext): Promise<CommandReply | null> {
    const identity = inboxIdentity(command, context);
    const { rows } = await this.db.query<{ reply: unknown; identity: string | null }>(
      `WITH upsert AS (
         INSERT INTO command_inbox (service, command_id, command, context, fingerprint) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (service, command_id) DO UPDATE
           SET reply = NULL, failed = false, attempts = 0, lease_until = '-infinity', handled_at = NULL
           WHERE command_inbox.failed AND command_inbox.fingerprint IS NOT DISTINCT FROM EXCLUDED.fingerprint
         RETURNING reply, fingerprint
       ), notified AS (
         SELECT pg_notify('${INBOX_CHANNEL}', $1) FROM upsert
       )
       SELECT reply, fingerprint AS identity FROM upsert, notified
       UNION ALL
       SELECT reply, fingerprint FROM command_inbox WHERE service = $1 AND command_id = $2 AND NOT EXISTS (SELECT 1 FROM upsert)`,
      [service, context.commandId, JSON.stringify(command), JSON.stringify(context), identity],
    );
    const row = rows[0];
    // NULL: a row written before identities were kept (migration 5); answered as before.
    if (row && row.identity !== null && row.identity !== identity) {
      return refusalReply(new IdempotencyKeyReusedError(shownCommandId(context)));
    }
    return row?.reply ? parseCommandReply(row.reply) : null;
  }

  async reply(service: string, commandId: string): Promise<CommandReply | null> {
    const { rows } = await this.db.query<{ reply: unknown }>(
      "SELECT reply FROM command_inbox WHERE service = $1 AND command_id = $2",
      [service, commandId],
    );
    return rows[0]?.reply ? parseCommandReply(rows[0].reply) : null;
  }

  /** Takes up to `limit` unanswered commands for `leaseMs`; another worker may take them once it expires. */
  async claim(service: string, limit: number, leaseMs: number): Promise<Array<{ command: unknown; context: CommandContext; attempts: number }>> {
    const { rows } = await this.db.query<{ command: unknown; context: CommandContext; attempts: number }>(
      `UPDATE command_inbox SET lease_until = now() + make_interval(secs => $3::float8 / 1000), attempts = attempts + 1
       WHERE (service, command_id) IN (
         SELECT service, command_id FROM command_inbox
         WHERE service = $1 AND reply IS NULL AND lease_until < now()
         ORDER BY enqueued_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING command, context, attempts`,
      [service, limit, leaseMs],
    );
    return rows;
  }

  async answer(service: string, commandId: string, reply: CommandReply, failed = false): Promise<void> {
    await this.db.query(
      `WITH answered AS (
         UPDATE command_inbox SET reply = $3, failed = $4, handled_at = now() WHERE service = $1 AND command_id = $2 RETURNING 1
       )
       SELECT pg_notify('${REPLY_CHANNEL}', $1 || E'\\n' || $2) FROM answered`,
      [service, commandId, JSON.stringify(reply), failed],
    );
  }

  /** Keeps the lease of commands still running: a lease is short, so that a dead worker's commands are taken again soon. */
  async renew(service: string, commandIds: readonly string[], leaseMs: number): Promise<void> {
    await this.db.query(
      `UPDATE command_inbox SET lease_until = now() + make_interval(secs => $3::float8 / 1000)
       WHERE service = $1 AND command_id = ANY($2::text[]) AND reply IS NULL`,
      [service, commandIds, leaseMs],
    );
  }

  /** Tries a command again after `delayMs` (a transient failure). */
  async release(service: string, commandId: string, delayMs: number): Promise<void> {
    await this.db.query(
      "UPDATE command_inbox SET lease_until = now() + make_interval(secs => $3::float8 / 1000) WHERE service = $1 AND command_id = $2",
      [service, commandId, delayMs],
    );
  }

  /**
   * Forgets answers older than `olderThanMs`. A resend after that runs the
   * command again, which the event store still answers with its first result
   * (command_results); only a refusal is decided afresh.
   */
  async prune(service: string, olderThanMs: number): Promise<number> {
    const { rowCount } = await this.db.query(
      "DELETE FROM command_inbox WHERE service = $1 AND reply IS NOT NULL AND handled_at < now() - make_interval(secs => $2::float8 / 1000)",
      [service, olderThanMs],
    );
    return rowCount ?? 0;
  }
}
