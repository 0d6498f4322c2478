import type { Pool } from "pg";
import type { EventStore } from "../../src/platform/eventstore/eventStore";
import type { NewEvent } from "../../src/platform/eventstore/types";
import { productStreamId } from "../../src/services/inventory/decider";
import { accountStreamId } from "../../src/services/payments/decider";
import { closedLoop, type LoadResult } from "./load";

/**
 * The checkout floor: what one checkout writes to the log, replayed with
 * EventStore.append alone (no bus, saga, projector or Redis) at the same
 * concurrency. The appends are read from the log of a real checkout: every
 * event sharing its OrderPlaced's correlation id, grouped by transaction (one
 * append each), in commit order, with the streams they went to (order,
 * products, account, saga). A replay sends the same appends one after the
 * other to the same pattern of streams: fresh order and saga streams, and the
 * product and account streams the client's i-th checkout would use, appends
 * to one stream serialised in this process as the owning service serialises
 * them; an append that recorded a command result records one here too.
 */
export interface FloorAppend {
  streamId: string;
  events: Array<{ type: string; data: string; metadata: string }>;
  /** The append recorded a command result (it carried a commandId). */
  command: boolean;
}

export interface CheckoutTemplate {
  orderId: string;
  sku: string;
  customerId: string;
  appends: FloorAppend[];
  events: number;
  /** Events per stream kind, e.g. { order: 3, product: 1, account: 1, saga: 7 }. */
  byStream: Record<string, number>;
}

export async function readCheckoutTemplate(pool: Pool, order: { orderId: string; sku: string; customerId: string }): Promise<CheckoutTemplate> {
  const { rows } = await pool.query<{ stream_id: string; type: string; data: unknown; metadata: Record<string, unknown>; tx: string }>(
    `SELECT stream_id, type, data, metadata, transaction_id::text AS tx FROM events
     WHERE metadata->>'correlationId' = (SELECT metadata->>'correlationId' FROM events WHERE type = 'OrderPlaced' AND data->>'orderId' = $1 LIMIT 1)
     ORDER BY transaction_id, global_position`,
    [order.orderId],
  );
  if (rows.length === 0) throw new Error(`no events found for checkout ${order.orderId}`);
  const txs = [...new Set(rows.map((r) => r.tx))];
  const commands = await pool.query<{ tx: string }>("SELECT result->>'transactionId' AS tx FROM command_results WHERE result->>'transactionId' = ANY($1)", [txs]);
  const withCommand = new Set(commands.rows.map((r) => r.tx));
  const appends: FloorAppend[] = [];
  let last: { tx: string; stream: string } | null = null;
  for (const row of rows) {
    if (!last || last.tx !== row.tx || last.stream !== row.stream_id) {
      appends.push({ streamId: row.stream_id, events: [], command: withCommand.has(row.tx) });
      last = { tx: row.tx, stream: row.stream_id };
    }
    const { recordedAt: _recordedAt, ...metadata } = row.metadata;
    appends.at(-1)!.events.push({ type: row.type, data: JSON.stringify(row.data), metadata: JSON.stringify(metadata) });
  }
  const byStream: Record<string, number> = {};
  for (const row of rows) {
    const kind = row.stream_id.includes(order.orderId) ? (row.stream_id.startsWith("saga") ? "saga" : "order") : row.stream_id === productStreamId(order.sku) ? "product" : row.stream_id === accountStreamId(order.customerId) ? "account" : "other";
    byStream[kind] = (byStream[kind] ?? 0) + 1;
  }
  return { ...order, appends, events: rows.length, byStream };
}

export interface FloorRun {
  concurrency: number;
  replays: number;
  tag: string;
  /** The i-th replay's sku and customer, as the i-th checkout's. */
  skuOf(i: number): string;
  customerOf(i: number): string;
}

/** Replays the template `replays` times from `concurrency` clients; latencies are per replayed checkout. */
export function runFloor(store: EventStore, template: CheckoutTemplate, run: FloorRun): Promise<LoadResult> {
  const queues = new Map<string, Promise<unknown>>();
  const serial = <T>(stream: string, work: () => Promise<T>): Promise<T> => {
    const next = (queues.get(stream) ?? Promise.resolve()).then(work);
    const tail = next.catch(() => undefined);
    queues.set(stream, tail);
    void tail.then(() => queues.get(stream) === tail && queues.delete(stream));
    return next;
  };
  return closedLoop({
    concurrency: run.concurrency,
    total: run.replays,
    op: async (i) => {
      const orderId = `floor-${run.tag}-${i}`;
      const streamOf = (stream: string) =>
        stream === productStreamId(template.sku)
          ? productStreamId(run.skuOf(i))
          : stream === accountStreamId(template.customerId)
            ? accountStreamId(run.customerOf(i))
            : stream.replaceAll(template.orderId, orderId);
      const swap = (json: string) => json.replaceAll(template.orderId, orderId);
      for (const [k, append] of template.appends.entries()) {
        const stream = streamOf(append.streamId);
        const events: NewEvent[] = append.events.map((e) => ({ type: e.type, data: JSON.parse(swap(e.data)), metadata: JSON.parse(swap(e.metadata)) }));
        const options = append.command ? { commandId: `${orderId}:${k}`, actor: "bench" } : {};
        await serial(stream, () => store.append(stream, "any", events, options));
      }
    },
  });
}
