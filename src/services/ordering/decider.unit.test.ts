import { fold } from "../../platform/aggregate/decider";
import { deciderSpec } from "../../../test/support/deciderSpec";
import { decidingParsed } from "../../platform/bus/commandExecutor";
import { orderingContract } from "./contract";
import type { OrderingCommand, OrderLineInput, PlaceOrder } from "./commands";
import { orderDecider, orderStreamId, type OrderStatus } from "./decider";
import { orderingErrors } from "./errors";
import { orderingEventTypes, type OrderingEvent, type OrderLine } from "./events";

const spec = deciderSpec(decidingParsed(orderDecider, orderingContract.parseCommand));
const ORDER = "order-1";
const CUSTOMER = "customer-1";
const REASON = "customer changed their mind";

const LINES: OrderLineInput[] = [
  { sku: "TSHIRT-RED-M", quantity: 2, unitPriceMinor: 1999 },
  { sku: "MUG-BLUE", quantity: 1, unitPriceMinor: 850 },
];
const PRICED: OrderLine[] = [
  { sku: "TSHIRT-RED-M", quantity: 2, unitPriceMinor: 1999, lineTotalMinor: 3998 },
  { sku: "MUG-BLUE", quantity: 1, unitPriceMinor: 850, lineTotalMinor: 850 },
];
const ITEMS = [
  { sku: "TSHIRT-RED-M", quantity: 2 },
  { sku: "MUG-BLUE", quantity: 1 },
];

const placed = (orderId = ORDER): OrderingEvent => ({
  type: "OrderPlaced",
  data: { orderId, customerId: CUSTOMER, lines: PRICED, totalMinor: 4848, currency: "EUR" },
});
const confirmed = (): OrderingEvent => ({ type: "OrderConfirmed", data: { orderId: ORDER, customerId: CUSTOMER } });
const cancelled = (previousStatus: "PENDING" | "CONFIRMED", reason = REASON): OrderingEvent => ({
  type: "OrderCancelled",
  data: { orderId: ORDER, customerId: CUSTOMER, reason, previousStatus, lines: ITEMS },
});
const shipped = (): OrderingEvent => ({
  type: "OrderShipped",
  data: { orderId: ORDER, customerId: CUSTOMER, lines: ITEMS },
});

/** The history that leaves an order in each status. */
const historyIn: Record<Exclude<OrderStatus, "ABSENT">, OrderingEvent[]> = {
  PENDING: [placed()],
  CONFIRMED: [placed(), confirmed()],
  SHIPPED: [placed(), confirmed(), shipped()],
  CANCELLED: [placed(), cancelled("PENDING")],
};

const place = (fields: Partial<Record<keyof PlaceOrder, unknown>> = {}): OrderingCommand =>
  ({ type: "PlaceOrder", orderId: ORDER, customerId: CUSTOMER, lines: LINES, currency: "EUR", ...fields }) as PlaceOrder;
const placeWithLine = (line: Record<string, unknown>): OrderingCommand => place({ lines: [line] });
// Overrides (not default parameters), so that a field can be set to `undefined` on purpose.
type Fields = Record<string, unknown>;
const confirm = (fields: Fields = {}): OrderingCommand =>
  ({ type: "ConfirmOrder", orderId: ORDER, ...fields }) as OrderingCommand;
const cancel = (fields: Fields = {}): OrderingCommand =>
  ({ type: "CancelOrder", orderId: ORDER, reason: REASON, ...fields }) as OrderingCommand;
const ship = (fields: Fields = {}): OrderingCommand =>
  ({ type: "MarkOrderShipped", orderId: ORDER, ...fields }) as OrderingCommand;

const MAX_PRICE = 10_000_000_000;
const skus = (count: number): string[] => Array.from({ length: count }, (_, i) => `SKU-${i}`);
const badIds: Array<[string, unknown]> = [
  ["empty", ""],
  ["65 characters", "o".repeat(65)],
  ["a space", "order 1"],
  ["a slash", "order/1"],
  ["a number", 42],
  ["null", null],
  ["missing", undefined],
  ["an array", ["order-1"]],
];
const badQuantities: Array<[string, unknown]> = [
  ["zero", 0],
  ["negative", -1],
  ["fractional", 1.5],
  ["above 1000", 1001],
  ["NaN", Number.NaN],
  ["a numeric string", "2"],
  ["missing", undefined],
];
const badPrices: Array<[string, unknown]> = [
  ["negative", -1],
  ["fractional", 19.99],
  ["above 10^10", MAX_PRICE + 1],
  ["infinite", Number.POSITIVE_INFINITY],
  ["a numeric string", "1999"],
  ["null", null],
];
const badReasons: Array<[string, unknown]> = [
  ["empty", ""],
  ["only whitespace", "   "],
  ["501 characters", "r".repeat(501)],
  ["a number", 7],
  ["missing", undefined],
];

describe("orderStreamId", () => {
  it("puts the order id in the ordering order category", () => {
    expect(orderStreamId("o-1")).toBe("ordering.order-o-1");
  });
});

describe("PlaceOrder", () => {
  it("places a new order with line totals and the order total", () => {
    spec.given([]).when(place()).then([placed()]);
  });

  it("keeps the lines in the order given", () => {
    spec
      .given([])
      .when(place({ lines: [...LINES].reverse() }))
      .then([{ type: "OrderPlaced", data: { ...placed().data, lines: [...PRICED].reverse() } } as OrderingEvent]);
  });

  it("copies only the known line fields into the event", () => {
    spec
      .given([])
      .when(placeWithLine({ sku: "MUG-BLUE", quantity: 3, unitPriceMinor: 100, note: "gift", lineTotalMinor: 1 }))
      .then([
        {
          type: "OrderPlaced",
          data: {
            orderId: ORDER,
            customerId: CUSTOMER,
            lines: [{ sku: "MUG-BLUE", quantity: 3, unitPriceMinor: 100, lineTotalMinor: 300 }],
            totalMinor: 300,
            currency: "EUR",
          },
        },
      ]);
  });

  // Price 0 is refused (decision 0014): such a line could be placed but never paid for (payments authorize 1 or more).
  it("refuses a free line (unit price 0) with VALIDATION naming it", () => {
    spec
      .given([])
      .when(placeWithLine({ sku: "STICKER", quantity: 5, unitPriceMinor: 0 }))
      .thenThrows("VALIDATION", { field: "lines[0].unitPriceMinor" });
  });

  it("accepts the largest order (50 lines of 1000 units at 10^10) with an exact, safe total", () => {
    const lines = skus(50).map((sku) => ({ sku, quantity: 1000, unitPriceMinor: MAX_PRICE }));
    const [event] = orderDecider.decide(place({ lines }), orderDecider.initialState);
    expect(event?.type).toBe("OrderPlaced");
    const data = event?.data as { totalMinor: number; lines: OrderLine[] };
    expect(data.lines).toHaveLength(50);
    expect(data.lines[0]?.lineTotalMinor).toBe(10_000_000_000_000);
    expect(data.totalMinor).toBe(500_000_000_000_000);
    expect(Number.isSafeInteger(data.totalMinor)).toBe(true);
  });

  it.each<[string, Partial<Record<keyof PlaceOrder, unknown>>]>([
    ["a 1-character order id", { orderId: "o" }],
    ["a 64-character order id", { orderId: "o".repeat(64) }],
    ["an order id with _ . : -", { orderId: "a_b.c:d-e" }],
    ["a 64-character customer id", { customerId: "c".repeat(64) }],
    ["a customer id with _ . : -", { customerId: "tenant:cust_1.a-b" }],
    ["a single line", { lines: [LINES[0]] }],
    ["50 lines", { lines: skus(50).map((sku) => ({ sku, quantity: 1, unitPriceMinor: 1 })) }],
    ["quantity 1", { lines: [{ sku: "MUG", quantity: 1, unitPriceMinor: 1 }] }],
    ["quantity 1000", { lines: [{ sku: "MUG", quantity: 1000, unitPriceMinor: 1 }] }],
    ["unit price 10^10", { lines: [{ sku: "MUG", quantity: 1, unitPriceMinor: MAX_PRICE }] }],
    ["another currency", { currency: "JPY" }],
  ])("accepts %s", (_, fields) => {
    const [event] = orderDecider.decide(place(fields), orderDecider.initialState);
    expect(event?.type).toBe("OrderPlaced");
    expect(event?.data).toMatchObject({ orderId: fields.orderId ?? ORDER, customerId: fields.customerId ?? CUSTOMER });
  });

  it("refuses an order id that is taken with ALREADY_EXISTS", () => {
    spec.given([placed()]).when(place()).thenThrows("ALREADY_EXISTS", { orderId: ORDER });
  });

  it("refuses to reuse the id of a cancelled order with ALREADY_EXISTS", () => {
    spec.given(historyIn.CANCELLED).when(place()).thenThrows("ALREADY_EXISTS", { orderId: ORDER });
  });

  it("validates the command before looking at the order: a malformed retake is VALIDATION", () => {
    spec.given([placed()]).when(place({ currency: "eur" })).thenThrows("VALIDATION", { field: "currency" });
  });

  it.each(badIds)("refuses an order id that is %s", (_, orderId) => {
    spec.given([]).when(place({ orderId })).thenThrows("VALIDATION", { field: "orderId" });
  });

  it.each(badIds)("refuses a customer id that is %s", (_, customerId) => {
    spec.given([]).when(place({ customerId })).thenThrows("VALIDATION", { field: "customerId" });
  });

  it.each<[string, unknown]>([
    ["empty", []],
    ["51 lines", skus(51).map((sku) => ({ sku, quantity: 1, unitPriceMinor: 1 }))],
    ["a single line object, not a list", LINES[0]],
    ["a string", "TSHIRT-RED-M"],
    ["null", null],
    ["missing", undefined],
  ])("refuses lines that are %s", (_, lines) => {
    spec.given([]).when(place({ lines })).thenThrows("VALIDATION", { field: "lines" });
  });

  it.each<[string, unknown]>([
    ["null", null],
    ["a string", "MUG"],
    ["a list", ["MUG", 1, 100]],
  ])("refuses a line that is %s", (_, line) => {
    spec.given([]).when(place({ lines: [LINES[0], line] })).thenThrows("VALIDATION", { field: "lines[1]" });
  });

  it.each<[string, unknown]>([
    ["lowercase", "mug-blue"],
    ["one character", "M"],
    ["a leading dash", "-MUG"],
    ["a number", 12345],
    ["missing", undefined],
  ])("refuses a line SKU that is %s, naming the line", (_, sku) => {
    spec
      .given([])
      .when(place({ lines: [LINES[0], { sku, quantity: 1, unitPriceMinor: 1 }] }))
      .thenThrows("VALIDATION", { field: "lines[1].sku" });
  });

  it("refuses a SKU ordered on two lines, naming the second", () => {
    spec
      .given([])
      .when(place({ lines: [...LINES, { sku: "TSHIRT-RED-M", quantity: 1, unitPriceMinor: 1999 }] }))
      .thenThrows("VALIDATION", { field: "lines[2].sku", value: '"TSHIRT-RED-M"' });
  });

  it.each(badQuantities)("refuses a line quantity that is %s", (_, quantity) => {
    spec
      .given([])
      .when(placeWithLine({ sku: "MUG", quantity, unitPriceMinor: 100 }))
      .thenThrows("VALIDATION", { field: "lines[0].quantity" });
  });

  it.each(badPrices)("refuses a unit price that is %s", (_, unitPriceMinor) => {
    spec
      .given([])
      .when(placeWithLine({ sku: "MUG", quantity: 1, unitPriceMinor }))
      .thenThrows("VALIDATION", { field: "lines[0].unitPriceMinor" });
  });

  it.each<[string, unknown]>([
    ["lowercase", "eur"],
    ["two letters", "EU"],
    ["four letters", "EURO"],
    ["empty", ""],
    ["a number", 978],
    ["a list", ["EUR"]],
    ["missing", undefined],
  ])("refuses a currency that is %s", (_, currency) => {
    spec.given([]).when(place({ currency })).thenThrows("VALIDATION", { field: "currency" });
  });
});

describe("ConfirmOrder", () => {
  it("confirms a pending order", () => {
    spec.given(historyIn.PENDING).when(confirm()).then([confirmed()]);
  });

  it.each(["CONFIRMED", "SHIPPED", "CANCELLED"] as const)(
    "refuses to confirm a %s order with INVALID_TRANSITION",
    (from) => {
      spec
        .given(historyIn[from])
        .when(confirm())
        .thenThrows("INVALID_TRANSITION", { orderId: ORDER, from, to: "CONFIRMED" });
    },
  );

  it("refuses an unknown order with NOT_FOUND", () => {
    spec.given([]).when(confirm()).thenThrows("NOT_FOUND", { what: "Order", id: ORDER });
  });

  it.each(badIds)("refuses an order id that is %s", (_, orderId) => {
    spec.given(historyIn.PENDING).when(confirm({ orderId })).thenThrows("VALIDATION", { field: "orderId" });
  });
});

describe("CancelOrder", () => {
  it("cancels a pending order, carrying the customer and the lines", () => {
    spec.given(historyIn.PENDING).when(cancel()).then([cancelled("PENDING")]);
  });

  it("cancels a confirmed order, recording that it was confirmed", () => {
    spec.given(historyIn.CONFIRMED).when(cancel()).then([cancelled("CONFIRMED")]);
  });

  it("stores the reason trimmed", () => {
    spec.given(historyIn.PENDING).when(cancel({ reason: "  out of stock \n" })).then([cancelled("PENDING", "out of stock")]);
  });

  it("accepts a 500-character reason", () => {
    spec.given(historyIn.PENDING).when(cancel({ reason: "r".repeat(500) })).then([cancelled("PENDING", "r".repeat(500))]);
  });

  it("appends nothing for an order cancelled while pending", () => {
    spec.given(historyIn.CANCELLED).when(cancel()).then([]);
  });

  it("appends nothing for an order cancelled after confirmation, even with another reason", () => {
    spec.given([placed(), confirmed(), cancelled("CONFIRMED")]).when(cancel({ reason: "deadline passed" })).then([]);
  });

  it("refuses to cancel a shipped order with INVALID_TRANSITION", () => {
    spec
      .given(historyIn.SHIPPED)
      .when(cancel())
      .thenThrows("INVALID_TRANSITION", { orderId: ORDER, from: "SHIPPED", to: "CANCELLED" });
  });

  it("refuses an unknown order with NOT_FOUND", () => {
    spec.given([]).when(cancel()).thenThrows("NOT_FOUND", { what: "Order", id: ORDER });
  });

  it.each(badReasons)("refuses a reason that is %s", (_, reason) => {
    spec.given(historyIn.PENDING).when(cancel({ reason })).thenThrows("VALIDATION", { field: "reason" });
  });

  it("validates the reason even when the order is already cancelled", () => {
    spec.given(historyIn.CANCELLED).when(cancel({ reason: "" })).thenThrows("VALIDATION", { field: "reason" });
  });

  it.each(badIds)("refuses an order id that is %s", (_, orderId) => {
    spec.given(historyIn.PENDING).when(cancel({ orderId })).thenThrows("VALIDATION", { field: "orderId" });
  });
});

describe("MarkOrderShipped", () => {
  it("ships a confirmed order, carrying the customer and the lines", () => {
    spec.given(historyIn.CONFIRMED).when(ship()).then([shipped()]);
  });

  it.each(["PENDING", "SHIPPED", "CANCELLED"] as const)("refuses to ship a %s order with INVALID_TRANSITION", (from) => {
    spec.given(historyIn[from]).when(ship()).thenThrows("INVALID_TRANSITION", { orderId: ORDER, from, to: "SHIPPED" });
  });

  it("refuses to ship an order cancelled after confirmation with INVALID_TRANSITION", () => {
    spec
      .given([placed(), confirmed(), cancelled("CONFIRMED")])
      .when(ship())
      .thenThrows("INVALID_TRANSITION", { from: "CANCELLED", to: "SHIPPED" });
  });

  it("refuses an unknown order with NOT_FOUND", () => {
    spec.given([]).when(ship()).thenThrows("NOT_FOUND", { what: "Order", id: ORDER });
  });

  it.each(badIds)("refuses an order id that is %s", (_, orderId) => {
    spec.given(historyIn.CONFIRMED).when(ship({ orderId })).thenThrows("VALIDATION", { field: "orderId" });
  });
});

describe("malformed commands (as they may arrive from a job queue)", () => {
  it("refuses an unknown command type with VALIDATION", () => {
    spec
      .given(historyIn.PENDING)
      .when({ type: "DeleteOrder", orderId: ORDER } as unknown as OrderingCommand)
      .thenThrows("VALIDATION", { field: "type", value: '"DeleteOrder"' });
  });

  it.each<[string, unknown]>([
    ["null", null],
    ["a string", "PlaceOrder"],
  ])("refuses a command that is %s with VALIDATION", (_, command) => {
    spec.given([]).when(command as OrderingCommand).thenThrows("VALIDATION", { field: "command" });
  });
});

describe("evolve", () => {
  it("folds a placed order into a pending order with its lines and total", () => {
    expect(fold(orderDecider, historyIn.PENDING)).toEqual({
      status: "PENDING",
      orderId: ORDER,
      customerId: CUSTOMER,
      lines: PRICED,
      totalMinor: 4848,
      currency: "EUR",
      cancelReason: null,
    });
  });

  it.each(["CONFIRMED", "SHIPPED"] as const)("folds a %s order", (status) => {
    expect(fold(orderDecider, historyIn[status])).toMatchObject({ status, totalMinor: 4848, cancelReason: null });
  });

  it("keeps the cancel reason of a cancelled order", () => {
    expect(fold(orderDecider, [placed(), confirmed(), cancelled("CONFIRMED", "payment declined")])).toMatchObject({
      status: "CANCELLED",
      cancelReason: "payment declined",
      lines: PRICED,
    });
  });

  it("ignores events for an order that was never placed", () => {
    expect(fold(orderDecider, [confirmed()])).toEqual({ status: "ABSENT" });
  });

  it("keeps the previous state untouched", () => {
    const before = fold(orderDecider, [placed()]);
    const snapshot = structuredClone(before);
    orderDecider.evolve(before, cancelled("PENDING"));
    expect(before).toEqual(snapshot);
  });
});

describe("orderingEventTypes", () => {
  it("lists every ordering event type", () => {
    expect([...orderingEventTypes].sort()).toEqual(["OrderCancelled", "OrderConfirmed", "OrderPlaced", "OrderShipped"]);
  });
});

describe("error messages", () => {
  it.each([
    ["ALREADY_EXISTS", orderingErrors.orderExists(ORDER), [ORDER]],
    ["NOT_FOUND", orderingErrors.orderNotFound(ORDER), [ORDER]],
    ["INVALID_TRANSITION", orderingErrors.invalidTransition(ORDER, "SHIPPED", "CANCELLED"), [ORDER, "SHIPPED", "CANCELLED"]],
  ] as const)("%s names what was refused", (code, error, mentions) => {
    expect(error.code).toBe(code);
    for (const text of mentions) expect(error.message).toContain(text);
  });
});
