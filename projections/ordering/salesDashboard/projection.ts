import type { RecordedEvent } from "../../../src/platform/eventstore/types";
import { formatLogPosition } from "../../../src/platform/eventstore/logPosition";
import type { DocumentProjection } from "../../../src/platform/projection/types";
import { type OrderingEvent, orderingContract, orderingEventTypes } from "../../../src/services/ordering/contract";
import { type PaymentsEvent, paymentsContract } from "../../../src/services/payments/contract";
import { isEventOf } from "../../../src/platform/aggregate/contract";
import type { OrderStatus } from "../orders/projection";

/** Store-wide figures for a dashboard: one document, moved by orders and payments alike. */
export interface SalesDashboardView {
  id: string;
  /** How many orders are in each status right now; the counts sum to the orders placed. */
  ordersByStatus: Record<OrderStatus, number>;
  /** Captured minus refunded, in minor units. Amounts of every currency are added as they are. */
  capturedRevenueMinor: number;
  /** Units in orders that are not cancelled (pending, confirmed or shipped), by SKU; SKUs at 0 are dropped. */
  unitsBySku: Record<string, number>;
  /** Null until the first event. */
  updatedAt: string | null;
  position: string | null;
}

export const SALES_DASHBOARD = "sales-dashboard";
export const SALES_DASHBOARD_ID = "sales";
export const SALES_DASHBOARD_TOPIC = "sales-dashboard";

// Only the payment events that move revenue: the rest would rewrite the document and notify for nothing.
const paymentMovements = ["PaymentCaptured", "PaymentRefunded"] as const;
type PaymentMovement = Extract<PaymentsEvent, { type: (typeof paymentMovements)[number] }>;
type DashboardEvent = OrderingEvent | PaymentMovement;

const dashboardEventTypes: readonly DashboardEvent["type"][] = [...orderingEventTypes, ...paymentMovements];
const isOrderingEvent = (event: RecordedEvent) => isEventOf(event, orderingContract);
const isPaymentMovement = (event: RecordedEvent) => isEventOf(event, paymentsContract, paymentMovements);

export function emptySalesDashboard(): SalesDashboardView {
  return {
    id: SALES_DASHBOARD_ID,
    ordersByStatus: { PENDING: 0, CONFIRMED: 0, SHIPPED: 0, CANCELLED: 0 },
    capturedRevenueMinor: 0,
    unitsBySku: {},
    updatedAt: null,
    position: null,
  };
}

export const salesDashboardProjection: DocumentProjection<SalesDashboardView> = {
  name: SALES_DASHBOARD,
  eventTypes: dashboardEventTypes,

  documentIds: () => [SALES_DASHBOARD_ID],

  evolve(doc, recorded) {
    if (!isOrderingEvent(recorded) && !isPaymentMovement(recorded)) return doc;
    const current = doc ?? emptySalesDashboard();
    return {
      ...applyEvent(current, recorded),
      updatedAt: recorded.metadata.recordedAt,
      position: formatLogPosition(recorded.position),
    };
  },

  topics: () => [SALES_DASHBOARD_TOPIC],
};

function applyEvent(doc: SalesDashboardView, event: DashboardEvent): SalesDashboardView {
  switch (event.type) {
    case "OrderPlaced":
      return {
        ...doc,
        ordersByStatus: move(doc.ordersByStatus, null, "PENDING"),
        unitsBySku: addUnits(doc.unitsBySku, event.data.lines, 1),
      };
    case "OrderConfirmed":
      return { ...doc, ordersByStatus: move(doc.ordersByStatus, "PENDING", "CONFIRMED") };
    case "OrderShipped":
      // Shipped units stay counted: they were sold.
      return { ...doc, ordersByStatus: move(doc.ordersByStatus, "CONFIRMED", "SHIPPED") };
    case "OrderCancelled":
      return {
        ...doc,
        ordersByStatus: move(doc.ordersByStatus, event.data.previousStatus, "CANCELLED"),
        unitsBySku: addUnits(doc.unitsBySku, event.data.lines, -1),
      };
    case "PaymentCaptured":
      return { ...doc, capturedRevenueMinor: doc.capturedRevenueMinor + event.data.amountMinor };
    case "PaymentRefunded":
      return { ...doc, capturedRevenueMinor: doc.capturedRevenueMinor - event.data.amountMinor };
  }
}

function move(
  counts: Record<OrderStatus, number>,
  from: OrderStatus | null,
  to: OrderStatus,
): Record<OrderStatus, number> {
  const next = { ...counts, [to]: counts[to] + 1 };
  if (from) next[from] -= 1;
  return next;
}

// Through a Map and Object.fromEntries, so a SKU such as "__proto__" stays an own key and never a prototype.
function addUnits(
  units: Readonly<Record<string, number>>,
  lines: ReadonlyArray<{ sku: string; quantity: number }>,
  sign: 1 | -1,
): Record<string, number> {
  const next = new Map(Object.entries(units));
  for (const { sku, quantity } of lines) {
    const total = (next.get(sku) ?? 0) + sign * quantity;
    if (total === 0) next.delete(sku);
    else next.set(sku, total);
  }
  return Object.fromEntries(next);
}
