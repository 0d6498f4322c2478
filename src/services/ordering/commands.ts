/** One line of a new order. The price is read from the catalog at the edge, so the decider stays pure. */
export type OrderLineInput = { sku: string; quantity: number; unitPriceMinor: number };

/** What callers ask of an order. Imperative names; each may be refused. The order id routes to the stream. */
export type PlaceOrder = {
  type: "PlaceOrder";
  orderId: string;
  customerId: string;
  lines: ReadonlyArray<OrderLineInput>;
  currency: string;
};
/** PENDING → CONFIRMED. */
export type ConfirmOrder = { type: "ConfirmOrder"; orderId: string };
/** PENDING or CONFIRMED → CANCELLED; cancelling a cancelled order changes nothing. */
export type CancelOrder = { type: "CancelOrder"; orderId: string; reason: string };
/** CONFIRMED → SHIPPED. */
export type MarkOrderShipped = { type: "MarkOrderShipped"; orderId: string };

export type OrderingCommand = PlaceOrder | ConfirmOrder | CancelOrder | MarkOrderShipped;

export type OrderingCommandType = OrderingCommand["type"];
