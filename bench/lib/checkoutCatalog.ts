import { print } from "graphql";
import type { Client } from "graphql-ws";
import type { Redis } from "ioredis";
import { ORDERS_TOPIC } from "../../projections/ordering/orders/projection";
import { DefineProductDocument, OpenAccountDocument, OrderChangesDocument, ProductDocument } from "../../test/graphql/generated";
import { request } from "../../test/support/graphqlClient";
import { untilSubscribed } from "../../test/support/testEnv";

/**
 * Products with plenty of stock and customers with plenty of money, spread
 * over many streams as real traffic is (a single hot stream serialises by
 * design); resolves once the catalog read model has them all.
 */
export async function seedCheckoutCatalog(url: string, tag: string, products: number, customers: number): Promise<void> {
  let last = "";
  for (let p = 0; p < products; p++) {
    const { defineProduct } = await request(url, DefineProductDocument, {
      input: { sku: `${tag}-${p}`, name: `${tag.toLowerCase()} ${p}`, priceMinor: 100, currency: "EUR", initialStock: 1_000_000 },
    });
    last = defineProduct.position!;
  }
  for (let c = 0; c < customers; c++) {
    await request(url, OpenAccountDocument, { customerId: `${tag.toLowerCase()}-${c}`, currency: "EUR", initialBalanceMinor: 10_000_000_000 });
  }
  await request(url, ProductDocument, { id: `${tag}-0`, waitFor: last });
}

type OrderChange = { orderChanges: { order: { orderId: string; status: string } | null } };

/**
 * Follows every order's changes over `client` and calls the waiter registered
 * in the returned map (by order id) when that order is confirmed; resolves
 * once the subscription is live on the projector's side.
 */
export async function followConfirmations(
  client: Client,
  system: { redis: Redis; prefix: string },
  onError: (message: string) => void,
): Promise<Map<string, () => void>> {
  const confirmed = new Map<string, () => void>();
  client.subscribe<OrderChange>(
    { query: print(OrderChangesDocument) },
    {
      next: ({ data }) => {
        const order = data?.orderChanges.order;
        if (order?.status === "CONFIRMED") confirmed.get(order.orderId)?.();
      },
      error: (e) => onError(`subscription failed: ${String(e)}`),
      complete: () => undefined,
    },
  );
  await untilSubscribed(system.redis, system.prefix, ORDERS_TOPIC);
  return confirmed;
}
