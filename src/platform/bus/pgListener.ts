import { Client } from "pg";
import { errorMessage } from "../core/errors";
import type { Logger } from "../observability/logger";

/**
 * One connection LISTENing to PostgreSQL notifications for a process. A
 * notification is only a hint to look again: it is lost while the connection
 * is down, so every user also polls slowly. The connection comes back by
 * itself after an outage.
 */
export class PgListener {
  private client: Client | null = null;
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;

  constructor(
    private readonly connectionString: string,
    private readonly log: Logger,
    private readonly retryMs = 1000,
  ) {}

  /** Calls `handler` with each payload sent on `channel`; returns the unsubscribe function. */
  on(channel: string, handler: (payload: string) => void): () => void {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      void this.client?.query(`LISTEN ${quoteIdent(channel)}`).catch(() => undefined);
    }
    set.add(handler);
    this.connecting ??= this.connect();
    return () => set.delete(handler);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.connecting?.catch(() => undefined);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.connectionString, connectionTimeoutMillis: 5000 });
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      if (this.client === client) this.client = null;
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      this.log.warn(`notifications: ${errorMessage(error)}; reconnecting`);
      this.retry = setTimeout(() => {
        this.connecting = this.connect();
      }, this.retryMs);
      this.retry.unref();
    };
    client.on("error", fail);
    client.on("end", () => fail(new Error("connection ended")));
    client.on("notification", (message) => {
      for (const handler of this.handlers.get(message.channel) ?? []) handler(message.payload ?? "");
    });
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
      if (this.stopped) {
        failed = true;
        await client.end();
        return;
      }
      this.client = client;
      // Whatever was notified while we were away is found by looking again now.
      for (const handlers of this.handlers.values()) handlers.forEach((h) => h(""));
    } catch (error) {
      fail(error);
    }
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
