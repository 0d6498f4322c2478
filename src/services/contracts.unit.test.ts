import { recordedEvent } from "../../test/support/projectionSpec";
import type { CommandContext, CommandOutcome } from "../platform/aggregate/commandHandler";
import type { CommandBus } from "../platform/bus/commandBus";
import { serviceClient } from "../platform/bus/serviceClient";
import { isEvent, isEventOf } from "../platform/aggregate/contract";
import { INVENTORY, inventoryContract } from "./inventory/contract";
import { orderingContract } from "./ordering/contract";
import { paymentsContract } from "./payments/contract";

/** A bus that records what it was asked to send; the typed client is all this test exercises. */
function recordingBus(): CommandBus & { sent: Array<{ service: string; command: unknown }> } {
  const sent: Array<{ service: string; command: unknown }> = [];
  return {
    sent,
    send(service: string, command: unknown, { commandId }: CommandContext): Promise<CommandOutcome> {
      sent.push({ service, command });
      return Promise.resolve({ commandId, streamId: "s", streamVersion: 0, position: null, events: [], eventTypes: [], duplicate: false });
    },
  };
}

const context: CommandContext = { commandId: "c-1", actor: "test" };

describe("serviceClient", () => {
  it("sends a command to the service its contract names", async () => {
    const bus = recordingBus();
    const inventory = serviceClient(bus, inventoryContract);
    await inventory.send({ type: "ReserveStock", sku: "TEA", orderId: "o-1", quantity: 1 }, context);
    expect(bus.sent).toEqual([{ service: INVENTORY, command: { type: "ReserveStock", sku: "TEA", orderId: "o-1", quantity: 1 } }]);
  });

  it("does not compile when Inventory is sent another service's command", async () => {
    const bus = recordingBus();
    const inventory = serviceClient(bus, inventoryContract);
    // @ts-expect-error ConfirmOrder is an OrderingCommand, not an InventoryCommand
    await inventory.send({ type: "ConfirmOrder", orderId: "o-1" }, context);
    // The bus stays untyped JSON underneath, so the owning service still refuses it at its boundary.
    expect(() => inventoryContract.parseCommand(bus.sent[0]!.command)).toThrow(expect.objectContaining({ code: "VALIDATION" }));
  });
});

describe("contracts", () => {
  it.each([
    ["inventory", inventoryContract, { type: "AuthorizePayment", customerId: "c-1", orderId: "o-1", amountMinor: 1 }],
    ["ordering", orderingContract, { type: "ReserveStock", sku: "TEA", orderId: "o-1", quantity: 1 }],
    ["payments", paymentsContract, { type: "ConfirmOrder", orderId: "o-1" }],
  ] as const)("%s refuses another service's command with VALIDATION on type", (_, contract, command) => {
    expect(() => contract.parseCommand(command)).toThrow(expect.objectContaining({ code: "VALIDATION", details: expect.objectContaining({ field: "type" }) }));
  });

  const recorded = (type: string, data: unknown) => recordedEvent({ type, data }, 1, { id: "ordering.order-o-1" });

  it("isEvent narrows a log event to one type of a contract, and to nothing else", () => {
    const shipped = recorded("OrderShipped", { orderId: "o-1", customerId: "c-1", lines: [{ sku: "TEA", quantity: 2 }] });
    expect(isEvent(shipped, orderingContract, "OrderShipped") && shipped.data.lines[0]?.quantity).toBe(2);
    expect(isEvent(shipped, orderingContract, "OrderCancelled")).toBe(false);
    expect(isEvent(recorded("Forged", {}), orderingContract, "OrderShipped")).toBe(false);
  });

  it("isEventOf tells a contract's events from others'", () => {
    expect(isEventOf(recorded("StockReserved", {}), inventoryContract)).toBe(true);
    expect(isEventOf(recorded("OrderPlaced", {}), inventoryContract)).toBe(false);
    expect(isEventOf(recorded("constructor", {}), inventoryContract)).toBe(false);
    // With `only`, a subset of the contract's events: another of its events is not one of them.
    expect(isEventOf(recorded("StockReserved", {}), inventoryContract, ["StockReserved", "StockRestocked"])).toBe(true);
    expect(isEventOf(recorded("ProductDefined", {}), inventoryContract, ["StockReserved", "StockRestocked"])).toBe(false);
    expect(isEventOf(recorded("OrderPlaced", {}), inventoryContract, ["StockReserved"])).toBe(false);
  });
});
