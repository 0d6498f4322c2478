import type { Pool } from "pg";
import { errorMessage, UnavailableError } from "../core/errors";
import { createPool } from "../eventstore/pool";
import type { Logger } from "../observability/logger";

export interface PostgresHealthOptions {
  /** Pause between probes. */
  probeEveryMs: number;
  /**
   * A probe (connect and `SELECT 1`) slower than this is given up. A timeout
   * alone proves nothing (a busy database or event loop is slow, not down), so
   * it leaves the state as it was; see connectionLost.
   */
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
  private slow = false;

  constructor(
    connectionString: string,
    private readonly options: PostgresHealthOptions,
    private readonly log: Logger,
  ) {
    // An idle probe connection that drops (server stopped, connection cut) is news before the next probe.
    this.pool = createPool(
      connectionString,
      { max: 1, connectionTimeoutMillis: options.timeoutMs, query_timeout: options.timeoutMs, idleTimeoutMillis: 0 },
      (error) => this.reportFailure(error),
    );
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

  /**
   * A caller saw a failure: a lost connection is believed until the next
   * probe answers; anything else (a pool or statement timeout under load) is
   * overload, not an outage, and changes nothing.
   */
  reportFailure(error: unknown): void {
    if (connectionLost(error)) this.mark(false, errorMessage(error));
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
      if (connectionLost(error)) this.mark(false, errorMessage(error));
      else this.inconclusive(error);
    }
  }

  /** A slow probe: logged once per streak, the state kept (down stays down until a probe answers). */
  private inconclusive(error: unknown): void {
    if (this.slow) return;
    this.slow = true;
    this.log.warn(`PostgreSQL slow to answer a probe (kept ${this.up ? "up" : "down"}): ${errorMessage(error)}`);
  }

  private mark(up: boolean, reason: string): void {
    this.slow = false;
    if (up !== this.up) this.log.warn(up ? "PostgreSQL reachable again" : `PostgreSQL unreachable: ${reason}`);
    this.up = up;
    this.lastError = reason;
  }
}

/**
 * Proof that PostgreSQL cannot be reached: a refused, reset or terminated
 * connection, or the server saying it is shutting down or starting. Timeouts
 * (pg's "timeout exceeded when trying to connect" from a full pool, "Query
 * read timeout") are not: they happen as much when the database or this
 * process's event loop is busy, and calling that an outage turned overload
 * into refusals (docs/decisions/0017-overload.md). The cause of an
 * UnavailableError is looked through.
 */
export function connectionLost(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    if (typeof e === "string") return LOST_MESSAGE.test(e);
    // Not `instanceof Error`: socket errors may come from another realm (a test runner's sandbox).
    if (typeof e !== "object" || e === null) return false;
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if ((typeof code === "string" && LOST_CODES.has(code)) || (typeof message === "string" && LOST_MESSAGE.test(message))) return true;
    e = cause;
  }
  return false;
}

const LOST_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "57P01", "57P02", "57P03", "08006", "08001", "08003"]);
const LOST_MESSAGE = /Connection terminated|ECONNREFUSED|ECONNRESET|is not queryable|the database system is (shutting down|starting up)/i;
