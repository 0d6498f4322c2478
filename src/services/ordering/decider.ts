import { assertNever, type Decider } from "../../platform/aggregate/decider";
import { ValidationError } from "../../platform/core/errors";
import { unknownCommandType } from "../../platform/aggregate/validation";
import { type OrderingCommand, type PlaceOrder } from "./commands";
import { orderingCommandSchemas } from "./commandSchemas";
import { orderingErrors } from "./errors";
import type { OrderingEvent, OrderItem, OrderLine } from "./events";

export type OrderStatus = "ABSENT" | "PENDING" | "CONFIRMED" | "SHIPPED" | "CANCELLED";

export type PlacedOrder = Readonly<{
  status: Exclude<OrderStatus, "ABSENT">;
  orderId: string;
  customerId: string;
  lines: readonly Readonly<OrderLine>[];
  totalMinor: number;
  currency: string;
  /** Set once the order is cancelled, null before. */
  cancelReason: string | null;
}>;

/** Plain JSON data, so it can be logged, snapshotted or compared as is. */
export type OrderState = Readonly<{ status: "ABSENT" }> | PlacedOrder;

/** One stream per order. */
export function orderStreamId(orderId: string): string {
  return `ordering.order-${orderId}`;
}

function placed(state: OrderState, orderId: string): PlacedOrder {
  if (state.status === "ABSENT") throw orderingErrors.orderNotFound(orderId);
  return state;
}

function items(order: PlacedOrder): OrderItem[] {
  return order.lines.map(({ sku, quantity }) => ({ sku, quantity }));
}

function place({ orderId, customerId, currency, lines: asked }: PlaceOrder): OrderingEvent {
  const lines: OrderLine[] = asked.map(({ sku, quantity, unitPriceMinor }) => ({
    sku,
    quantity,
    unitPriceMinor,
    lineTotalMinor: quantity * unitPriceMinor,
  }));
  const totalMinor = lines.reduce((sum, line) => sum + line.lineTotalMinor, 0);
  // The line limits keep this far below 2^53 (50 * 1000 * 10^10); checked so a future limit change cannot lose cents.
  if (!Number.isSafeInteger(totalMinor)) {
    throw new ValidationError("lines", asked, `a total of at most ${Number.MAX_SAFE_INTEGER}`);
  }
  return { type: "OrderPlaced", data: { orderId, customerId, lines, totalMinor, currency } };
}

// Commands arrive parsed against commandSchemas.ts (the service boundary), so only business rules are left here.
function decide(command: OrderingCommand, state: OrderState): OrderingEvent[] {
  const { orderId } = command;
  switch (command.type) {
    case "PlaceOrder": {
      const event = place(command);
      if (state.status !== "ABSENT") throw orderingErrors.orderExists(orderId);
      return [event];
    }
    case "ConfirmOrder": {
      const order = placed(state, orderId);
      if (order.status !== "PENDING") throw orderingErrors.invalidTransition(orderId, order.status, "CONFIRMED");
      return [{ type: "OrderConfirmed", data: { orderId, customerId: order.customerId } }];
    }
    case "CancelOrder": {
      const { reason } = command;
      const order = placed(state, orderId);
      if (order.status === "CANCELLED") return [];
      if (order.status === "SHIPPED") throw orderingErrors.invalidTransition(orderId, order.status, "CANCELLED");
      const { customerId, status: previousStatus } = order;
      return [{ type: "OrderCancelled", data: { orderId, customerId, reason, previousStatus, lines: items(order) } }];
    }
    case "MarkOrderShipped": {
      const order = placed(state, orderId);
      if (order.status !== "CONFIRMED") throw orderingErrors.invalidTransition(orderId, order.status, "SHIPPED");
      return [{ type: "OrderShipped", data: { orderId, customerId: order.customerId, lines: items(order) } }];
    }
    default:
      return unknownCommandType(command, Object.keys(orderingCommandSchemas));
  }
}

// Events are facts already accepted by `decide`; evolve applies them and never refuses one.
function evolve(state: OrderState, event: OrderingEvent): OrderState {
  if (event.type === "OrderPlaced") {
    const { orderId, customerId, lines, totalMinor, currency } = event.data;
    return { status: "PENDING", orderId, customerId, lines, totalMinor, currency, cancelReason: null };
  }
  if (state.status === "ABSENT") return state;
  switch (event.type) {
    case "OrderConfirmed":
      return { ...state, status: "CONFIRMED" };
    case "OrderCancelled":
      return { ...state, status: "CANCELLED", cancelReason: event.data.reason };
    case "OrderShipped":
      return { ...state, status: "SHIPPED" };
    default:
      return assertNever(event);
  }
}

export const orderDecider: Decider<OrderingCommand, OrderingEvent, OrderState> = {
  initialState: Object.freeze({ status: "ABSENT" }),
  stateVersion: "ordering.order@1",
  decide,
  evolve,
};
