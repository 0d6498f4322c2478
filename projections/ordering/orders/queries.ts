import type { Page, ReadModelStore } from "../../../src/platform/projection/readModelStore";
import { orderIndex, ORDERS, type OrderView } from "./projection";

/** A page of one customer's orders, newest first, and how many they have in all. */
export async function customerOrders(
  readModels: ReadModelStore,
  customerId: string,
  request: { first: number; after?: string | null },
): Promise<Page<OrderView> & { totalCount: number }> {
  const index = orderIndex.byCustomer(customerId);
  const [page, totalCount] = await Promise.all([
    readModels.page<OrderView>(ORDERS, index, { first: request.first, after: request.after, descending: true }),
    readModels.count(ORDERS, index),
  ]);
  return { ...page, totalCount };
}
