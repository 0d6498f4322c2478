import { DefineProductDocument, OpenAccountDocument, PlaceOrderDocument, ProductDocument } from "../graphql/generated";
import { execute, type GraphQLResponse } from "../support/graphqlClient";
import type { Random } from "./random";

export type CheckoutKind = "success" | "outOfStock" | "declined";

export interface Checkout {
  index: number;
  orderId: string;
  commandId: string;
  kind: CheckoutKind;
  customerId: string;
  /** When its first placeOrder request was sent (epoch ms): availability is measured from here. */
  startedAt: number;
  /** Attempts it took until the API gave a definitive answer. */
  attempts: number;
  outcome: "accepted" | "refused";
  refusal?: string;
}

export const IN_STOCK = ["CH-A", "CH-B", "CH-C", "CH-D"];
export const SOLD_OUT = "CH-SOLD-OUT";
const RICH = Array.from({ length: 8 }, (_, i) => `rich-${i}`);
const BROKE = ["broke-0", "broke-1"];

/**
 * Errors that say "not now" rather than "no": the client retries with the
 * same commandId, which is what makes the retry safe. NOT_FOUND is among
 * them only because the catalog read model is empty for a moment after a
 * Redis wipe, and every SKU the workload orders exists.
 */
const TRANSIENT = new Set(["UNAVAILABLE", "COMMAND_TIMEOUT", "CONSISTENCY_TIMEOUT", "INTERNAL", "NOT_FOUND"]);

/** Catalog and accounts the checkouts draw on, created through the API like any client would. */
export async function seedWorkload(url: string): Promise<void> {
  const products: Array<[string, number, number]> = [...IN_STOCK.map((sku, i): [string, number, number] => [sku, 1_000_000, 100 * (i + 1)]), [SOLD_OUT, 0, 700]];
  let position = "";
  for (const [sku, initialStock, priceMinor] of products) {
    const result = await seeded(() => execute(url, DefineProductDocument, { input: { sku, name: sku, priceMinor, currency: "EUR", initialStock }, commandId: `seed-${sku}` }));
    position = result.data?.defineProduct.position ?? position;
  }
  for (const customerId of [...RICH, ...BROKE]) {
    await seeded(() =>
      execute(url, OpenAccountDocument, { customerId, currency: "EUR", initialBalanceMinor: customerId.startsWith("rich") ? 10_000_000_000 : 0 }),
    );
  }
  await seeded(() => execute(url, ProductDocument, { id: SOLD_OUT, waitFor: position }));
}

/** The n-th checkout of a run: its kind and lines come from the seeded generator. */
export function planCheckout(random: Random, runId: string, index: number) {
  const kind = random.weighted<CheckoutKind>({ success: 6, outOfStock: 2, declined: 2 });
  const customerId = kind === "declined" ? random.pick(BROKE) : random.pick(RICH);
  const lines = Array.from({ length: random.int(1, 3) }, () => ({ sku: random.pick(IN_STOCK), quantity: random.int(1, 3) }));
  const unique = [...new Map(lines.map((l) => [l.sku, l])).values()];
  if (kind === "outOfStock") unique.push({ sku: SOLD_OUT, quantity: 1 });
  return { index, kind, customerId, lines: unique, orderId: `${runId}-order-${index}`, commandId: `${runId}-place-${index}` };
}

/**
 * Places one order, retrying transient failures with the same commandId until the answer is definitive.
 * `url` may be a function: each attempt then asks it again (API replicas, one of which may have died).
 */
export async function placeCheckout(url: string | (() => string), plan: ReturnType<typeof planCheckout>): Promise<Checkout> {
  const target = typeof url === "string" ? () => url : url;
  let attempts = 0;
  const startedAt = Date.now();
  const result = await untilDefinitive(() => {
    attempts += 1;
    return execute(target(), PlaceOrderDocument, { input: { orderId: plan.orderId, customerId: plan.customerId, lines: plan.lines }, commandId: plan.commandId });
  });
  const error = result.errors?.[0];
  const base = { index: plan.index, orderId: plan.orderId, commandId: plan.commandId, kind: plan.kind, customerId: plan.customerId, startedAt, attempts };
  return error ? { ...base, outcome: "refused", refusal: `${String(error.extensions?.code)}: ${error.message}` } : { ...base, outcome: "accepted" };
}

/** Set-up must succeed: a refused seed would make every later check meaningless. */
async function seeded<T>(call: () => Promise<GraphQLResponse<T>>): Promise<GraphQLResponse<T>> {
  const result = await untilDefinitive(call);
  if (result.errors?.length) throw new Error(`seeding the chaos workload failed: ${JSON.stringify(result.errors)}`);
  return result;
}

async function untilDefinitive<T>(call: () => Promise<GraphQLResponse<T>>, giveUpAfterMs = 120_000): Promise<GraphQLResponse<T>> {
  const deadline = Date.now() + giveUpAfterMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    const result = await call().catch((error: unknown): GraphQLResponse<T> => ({ errors: [{ message: String(error), extensions: { code: "NETWORK" } }] }));
    const code = String(result.errors?.[0]?.extensions?.code ?? "");
    if (!result.errors?.length || !(TRANSIENT.has(code) || code === "NETWORK") || Date.now() > deadline) return result;
    await new Promise((r) => setTimeout(r, delay));
  }
}
