import type { Client } from "graphql-ws";
import { productsProjection, STOCK_LEVELS_TOPIC } from "../projections/inventory/products/projection";
import { createRedis } from "../src/platform/core/redis";
import { EventStore } from "../src/platform/eventstore/eventStore";
import { compareLogPositions, formatLogPosition, type LogPosition, parseLogPosition } from "../src/platform/eventstore/logPosition";
import { createPool } from "../src/platform/eventstore/pool";
import { ReadModelKeys } from "../src/platform/projection/keys";
import { ProjectorWakeups } from "../src/platform/projection/wakeups";
import { sagaProjection } from "../src/platform/saga/sagaProjection";
import { services } from "../src/registry";
import { productStreamId } from "../src/services/inventory/decider";
import { wsClient } from "../test/support/graphqlClient";
import { TEST_REDIS_URL, untilSubscribed } from "../test/support/testEnv";
import { benchSystem } from "./lib/env";
import { benchMetadata, benchSku, multiRowInsert, productDefined, rawRow } from "./lib/inventoryEvents";
import { openLoop } from "./lib/load";
import type { Scenario } from "./lib/scenario";
import { medianOf, repeat, summarize } from "./lib/stats";

/**
 * Time from commit to visibility at a steady rate of appends (open loop):
 *  - read model: the projector's MULTI/EXEC that contains the event has run
 *    (its checkpoint notification, published inside that transaction, reached us);
 *  - subscription: a GraphQL `stockLevels` subscriber over WebSocket got the event.
 * Appends go through EventStore.append and wake the projector as the
 * services' command handlers do (ProjectorWakeups after each append); api and
 * projector run as their own processes. "Commit" is when append() resolved.
 */
const STOCK_LEVELS = "subscription BenchStockLevels { stockLevels { sku position } }";

interface Pending {
  position: LogPosition;
  committedAt: number;
}

export const projectionLagScenario: Scenario = {
  name: "projection-lag",
  summary: "commit → read model visible and → subscription client, p50/p99/max at steady rates (api+projector processes)",
  flags: {
    rate: "appends per second, comma-separated (default 500,2000)",
    seconds: "duration of each measurement in seconds (default 5; 3 in the suite)",
  },
  async run(ctx) {
    const rates = ctx.args.intList("rate", { single: [500, 2000], smoke: [100] }, ctx.mode);
    const seconds = ctx.args.int("seconds", { single: 5, suite: 3, smoke: 1 }, ctx.mode);
    const durationMs = ctx.mode === "smoke" ? 500 : seconds * 1000;
    const products = ctx.mode === "smoke" ? 20 : 1000;

    ctx.progress("starting api and projector processes");
    const system = await benchSystem(["api", "projector"]);
    const keys = new ReadModelKeys(system.prefix);
    const pool = createPool(system.db.url, { max: 32, idleTimeoutMillis: 0 });
    const store = new EventStore(pool);
    const targets = [...services.flatMap((s) => s.projections), sagaProjection].map(({ name, eventTypes }) => ({ name, eventTypes }));
    const wakeConnection = createRedis(TEST_REDIS_URL);
    const wakeups = new ProjectorWakeups(wakeConnection, system.prefix, targets);
    const subscriber = createRedis(TEST_REDIS_URL);
    let ws: Client | null = null;
    try {
      const skus = Array.from({ length: products }, (_, p) => benchSku(p));
      await pool.query(multiRowInsert("events", skus.length), skus.flatMap((sku) => rawRow(productStreamId(sku), 1, productDefined(sku))));

      // Read model: the projector publishes each committed checkpoint inside its MULTI/EXEC.
      let readModelAt: LogPosition = { transactionId: 0n, globalPosition: 0n };
      let pendingReadModel: Pending[] = [];
      let readModelLags: number[] = [];
      await subscriber.subscribe(keys.checkpointChannel(productsProjection.name));
      subscriber.on("message", (_channel: string, message: string) => {
        const [projection, , token] = message.split(" ");
        const position = projection === productsProjection.name && token ? parseLogPosition(token) : null;
        if (!position) return;
        const now = performance.now();
        if (compareLogPositions(position, readModelAt) > 0) readModelAt = position;
        pendingReadModel = pendingReadModel.filter((p) => {
          if (compareLogPositions(p.position, position) > 0) return true;
          readModelLags.push(now - p.committedAt);
          return false;
        });
      });

      // Subscription: every StockRestocked reaches `stockLevels` subscribers with its position.
      const committed = new Map<string, number>();
      const early = new Map<string, number>();
      let subscriptionLags: number[] = [];
      ws = wsClient(system.url.replace(/^http/, "ws"));
      ws.subscribe<{ stockLevels: { position: string } }>(
        { query: STOCK_LEVELS },
        {
          next: ({ data }) => {
            const token = data?.stockLevels.position;
            if (!token) return;
            const at = committed.get(token);
            if (at === undefined) return void early.set(token, performance.now());
            subscriptionLags.push(performance.now() - at);
            committed.delete(token);
          },
          error: (error) => ctx.progress(`subscription failed: ${String(error)}`),
          complete: () => undefined,
        },
      );

      let errors = 0;
      let firstError: unknown = null;
      const append = async (i: number) => {
        const sku = skus[i % skus.length]!;
        try {
          const result = await store.append(productStreamId(sku), "any", [
            { type: "StockRestocked", data: { sku, quantity: 1 }, metadata: benchMetadata(`lag-${i}`) },
          ]);
          const committedAt = performance.now();
          wakeups.wake(result.eventTypes);
          const token = formatLogPosition(result.position);
          if (compareLogPositions(result.position, readModelAt) <= 0) readModelLags.push(0);
          else pendingReadModel.push({ position: result.position, committedAt });
          const seen = early.get(token);
          if (seen === undefined) committed.set(token, committedAt);
          else {
            subscriptionLags.push(Math.max(0, seen - committedAt));
            early.delete(token);
          }
        } catch (error) {
          errors++;
          firstError ??= error;
        }
      };

      const measure = async (rate: number, ms: number) => {
        readModelLags = [];
        subscriptionLags = [];
        const loop = await openLoop({ rate, durationMs: ms, op: append, maxInFlight: 500 });
        const deadline = Date.now() + 15_000;
        while ((pendingReadModel.length || committed.size) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        const lost = { readModel: pendingReadModel.length, subscription: committed.size };
        pendingReadModel = [];
        committed.clear();
        early.clear();
        if (errors) throw new Error(`${errors} appends failed; first: ${String(firstError)}`);
        if (lost.readModel || lost.subscription) {
          throw new Error(`not seen within 15 s: ${lost.readModel} events in the read model, ${lost.subscription} by the subscriber`);
        }
        const r = summarize(readModelLags);
        const s = summarize(subscriptionLags);
        return { achieved: loop.achievedRate, skipped: loop.skipped, rmP50: r.p50, rmP99: r.p99, rmMax: r.max, subP50: s.p50, subP99: s.p99, subMax: s.max };
      };

      ctx.progress("warming up (the subscription must be live, the projector caught up)");
      await untilSubscribed(system.redis, system.prefix, STOCK_LEVELS_TOPIC);
      await measure(Math.min(200, rates[0]!), 1000);

      for (const rate of rates) {
        const m = medianOf(
          await repeat(ctx.runs, (run) => {
            ctx.progress(`${rate} events/s: run ${run + 1}/${ctx.runs}`);
            return measure(rate, durationMs);
          }),
        );
        const params = { rate, achievedRate: Math.round(m.achieved), seconds: durationMs / 1000, runs: ctx.runs };
        const target = rate === 500 ? { on: "value" as const, op: "<" as const, threshold: 25 } : undefined;
        const rows = [
          ["read model", "p50", m.rmP50],
          ["read model", "p99", m.rmP99],
          ["read model", "max", m.rmMax],
          ["subscription", "p50", m.subP50],
          ["subscription", "p99", m.subP99],
          ["subscription", "max", m.subMax],
        ] as const;
        for (const [path, stat, value] of rows) {
          ctx.emit({
            label: `${rate}/s → ${path}, ${stat}`,
            value,
            unit: "ms",
            params: { ...params, path: path === "read model" ? "readModel" : "subscription", stat },
            ...(stat === "p99" && target ? { target } : {}),
          });
        }
      }
    } finally {
      await ws?.dispose();
      await wakeups.close();
      await wakeConnection.quit();
      await subscriber.quit();
      await pool.end();
      await system.release();
    }
  },
};
