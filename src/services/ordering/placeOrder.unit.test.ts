import type { CommandContext, CommandOutcome } from "../../platform/aggregate/commandHandler";
import type { CommandBus } from "../../platform/bus/commandBus";
import { DomainError } from "../../platform/core/errors";
import { type Catalog, type CatalogPrice, orderAsked, orderIdFor, placeOrder, pricedOrder } from "./placeOrder";

function catalogOf(prices: Record<string, CatalogPrice>): Catalog & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    priceOf: async (sku) => {
      asked.push(sku);
      return prices[sku] ?? null;
    },
  };
}

const catalog = () => catalogOf({ "TEA-1": { priceMinor: 450, currency: "EUR" }, "MUG-2": { priceMinor: 1200, currency: "EUR" }, "USD-3": { priceMinor: 99, currency: "USD" } });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("pricedOrder", () => {
  it("prices every line from the catalog and takes the catalog's currency", async () => {
    const request = { orderId: "o-1", customerId: "ada", lines: [{ sku: "TEA-1", quantity: 2 }, { sku: "MUG-2", quantity: 1 }] };
    expect(await pricedOrder(catalog(), request, "cmd-1")).toEqual({
      type: "PlaceOrder",
      orderId: "o-1",
      customerId: "ada",
      lines: [
        { sku: "TEA-1", quantity: 2, unitPriceMinor: 450 },
        { sku: "MUG-2", quantity: 1, unitPriceMinor: 1200 },
      ],
      currency: "EUR",
    });
  });

  it("derives the order id from the idempotency key when none is given: the same key names the same order", async () => {
    const request = { customerId: "ada", lines: [{ sku: "TEA-1", quantity: 1 }] };
    const first = await pricedOrder(catalog(), request, "ada/cmd-1");
    expect(first.orderId).toBe(orderIdFor("ada/cmd-1"));
    expect((await pricedOrder(catalog(), request, "ada/cmd-1")).orderId).toBe(first.orderId);
    expect((await pricedOrder(catalog(), request, "bob/cmd-1")).orderId).not.toBe(first.orderId);
  });

  it("derived ids are UUID-shaped, version 8", () => {
    expect(orderIdFor("ada/cmd-1")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("refuses an unknown SKU with NOT_FOUND", async () => {
    expect(await codeOf(pricedOrder(catalog(), { customerId: "ada", lines: [{ sku: "NOPE-9", quantity: 1 }] }, "k"))).toBe("NOT_FOUND");
  });

  it("refuses products priced in more than one currency with VALIDATION", async () => {
    const lines = [{ sku: "TEA-1", quantity: 1 }, { sku: "USD-3", quantity: 1 }];
    expect(await codeOf(pricedOrder(catalog(), { customerId: "ada", lines }, "k"))).toBe("VALIDATION");
  });

  it("refuses before reading the catalog: no lines, too many lines, or a malformed SKU", async () => {
    const tooMany = Array.from({ length: 51 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 }));
    for (const lines of [[], tooMany, [{ sku: "not a sku!", quantity: 1 }]]) {
      const port = catalog();
      expect(await codeOf(pricedOrder(port, { customerId: "ada", lines }, "k"))).toBe("VALIDATION");
      expect(port.asked).toEqual([]);
    }
  });
});

describe("placeOrder", () => {
  const context: CommandContext = { commandId: "ada/cmd-1", clientCommandId: "cmd-1", actor: "ada" };

  function recordingBus(): CommandBus & { sent: Array<{ service: string; command: unknown; context: CommandContext }> } {
    const sent: Array<{ service: string; command: unknown; context: CommandContext }> = [];
    return {
      sent,
      send: async (service, command, ctx) => {
        sent.push({ service, command, context: ctx });
        const outcome: CommandOutcome = { commandId: ctx.commandId, streamId: "s", streamVersion: 1, position: null, events: [], eventTypes: [], duplicate: false };
        return outcome;
      },
    };
  }

  it("sends Ordering the priced command with the caller's context, and names the order it placed", async () => {
    const commands = recordingBus();
    const { orderId } = await placeOrder({ catalog: catalog(), commands }, { customerId: "ada", lines: [{ sku: "TEA-1", quantity: 3 }] }, context);
    expect(orderId).toBe(orderIdFor("ada/cmd-1"));
    expect(commands.sent).toEqual([
      {
        service: "ordering",
        command: { type: "PlaceOrder", orderId, customerId: "ada", lines: [{ sku: "TEA-1", quantity: 3, unitPriceMinor: 450 }], currency: "EUR" },
        context,
      },
    ]);
  });

  it("sends nothing when the command is refused by its schema", async () => {
    const commands = recordingBus();
    const request = { customerId: "ada", lines: [{ sku: "TEA-1", quantity: 0 }] };
    expect(await codeOf(placeOrder({ catalog: catalog(), commands }, request, context))).toBe("VALIDATION");
    expect(commands.sent).toEqual([]);
  });

  it("fingerprints the order as asked, without prices, so a resend after a price change is the same command", () => {
    expect(orderAsked({ customerId: "ada", lines: [{ sku: "TEA-1", quantity: 3 }] })).toEqual({
      type: "PlaceOrder",
      orderId: null,
      customerId: "ada",
      lines: [{ sku: "TEA-1", quantity: 3 }],
    });
  });
});
