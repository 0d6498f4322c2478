import type { Pool } from "pg";
import { errorMessage, UnavailableError } from "../errors";
import { createPool } from "./pool";
import type { Logger } from "../observability/logger";

export interface PostgresHealthOptions {
  /** Pause between probes. */
  probeEveryMs: number;
  /** A probe (connect and `SELECT 1`) slower than this counts as a failure. */
  timeoutMs: number;
}

/**
 * Knows within about one probe whether PostgreSQL answers, so that callers
 * can refuse work at once with UNAVAILABLE instead of each waiting out a
 * connection timeout. It has its own one-connection pool: the main pool may
 * be saturated by the very requests that are stuck.
 */
export class PostgresHealth {
  private readonly pool: Pool;
  private up = true;
  private lastError = "";
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;
  private stopped = false;

  constructor(
    connectionString: string,
    private readonly options: PostgresHealthOptions,
    private readonly log: Logger,
  ) {
    this.pool = createPool(connectionString, {
      max: 1,
      connectionTimeoutMillis: options.timeoutMs,
      query_timeout: options.timeoutMs,
      idleTimeoutMillis: 0,
    });
  }

  start(): void {
    this.schedule(0);
  }

  isUp(): boolean {
    return this.up;
  }

  /** Throws UNAVAILABLE when the last probe (or a caller's report) found PostgreSQL unreachable. */
  assertUp(): void {
    if (!this.up) throw new UnavailableError("PostgreSQL", this.lastError || "not answering");
  }

  /** A caller saw a connection failure: believe it until the next probe says otherwise. */
  reportFailure(error: unknown): void {
    this.mark(false, errorMessage(error));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.probing;
    await this.pool.end();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.probing = this.probe().finally(() => {
        this.probing = null;
        this.schedule(this.options.probeEveryMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    try {
      await this.pool.query("SELECT 1");
      this.mark(true, "");
    } catch (error) {
      this.mark(false, errorMessage(error));
    }
  }

  private mark(up: boolean, reason: string): void {
    if (up !== this.up) this.log.warn(up ? "PostgreSQL reachable again" : `PostgreSQL unreachable: ${reason}`);
    this.up = up;
    this.lastError = reason;
  }
}
