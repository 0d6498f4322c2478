import { DomainError } from "../platform/core/errors";
import { parseInventoryCommand } from "./inventory/commandSchemas";
import { parseOrderingCommand } from "./ordering/commandSchemas";
import { parsePaymentsCommand } from "./payments/commandSchemas";

/**
 * The command schemas the API edge checks before queueing, and each service
 * checks again when it takes a job: a refusal is VALIDATION naming the field.
 */
const refusal = (parse: () => unknown) => {
  try {
    parse();
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, field: error.details.field };
    throw error;
  }
  return null;
};

const product = { type: "DefineProduct", sku: "TEA-1", name: "Tea", priceMinor: 100, currency: "EUR", initialStock: 1 };

describe("inventory", () => {
  it("accepts a well-formed command and returns it normalized", () => {
    expect(parseInventoryCommand({ ...product, name: "  Tea " })).toEqual(product);
    expect(parseInventoryCommand({ type: "ReleaseStock", sku: "TEA-1", orderId: "o-1", tombstone: true })).toMatchObject({ tombstone: true });
  });

  it.each([
    ["a 98 KB name", { ...product, name: "x".repeat(98_000) }, "name"],
    ["a NUL in the name", { ...product, name: "Tea\u0000" }, "name"],
    ["an unpaired surrogate in the name", { ...product, name: "Tea\uD800" }, "name"],
    ["price 0", { ...product, priceMinor: 0 }, "priceMinor"],
    ["a price as text", { ...product, priceMinor: "100" }, "priceMinor"],
    ["a NUL in the SKU", { ...product, sku: "TEA\u0000" }, "sku"],
    ["a field no command has", { ...product, evil: 1 }, "command"],
    ["a missing field", { type: "Restock", sku: "TEA-1" }, "quantity"],
    ["an unknown type", { type: "Explode", sku: "TEA-1" }, "type"],
    ["no type at all", { sku: "TEA-1" }, "type"],
    ["a type from Object.prototype", { type: "constructor" }, "type"],
  ])("refuses %s with VALIDATION naming the field", (_, command, field) => {
    expect(refusal(() => parseInventoryCommand(command))).toEqual({ code: "VALIDATION", field });
  });

  it("refuses what is not an object", () => {
    for (const command of [null, "DefineProduct", 5, []]) expect(refusal(() => parseInventoryCommand(command))?.code).toBe("VALIDATION");
  });
});

describe("ordering", () => {
  const place = { type: "PlaceOrder", orderId: "o-1", customerId: "ada", lines: [{ sku: "TEA-1", quantity: 1, unitPriceMinor: 100 }], currency: "EUR" };

  it.each([
    ["a NUL in the cancel reason", { type: "CancelOrder", orderId: "o-1", reason: "why\u0000" }, "reason"],
    ["an unpaired surrogate in the cancel reason", { type: "CancelOrder", orderId: "o-1", reason: "\uDC00" }, "reason"],
    ["a free line", { ...place, lines: [{ sku: "TEA-1", quantity: 1, unitPriceMinor: 0 }] }, "lines[0].unitPriceMinor"],
    ["a NUL in a line's SKU", { ...place, lines: [{ sku: "T\u0000", quantity: 1, unitPriceMinor: 1 }] }, "lines[0].sku"],
    ["a NUL in the customer id", { ...place, customerId: "a\u0000" }, "customerId"],
  ])("refuses %s with VALIDATION naming the field", (_, command, field) => {
    expect(refusal(() => parseOrderingCommand(command))).toEqual({ code: "VALIDATION", field });
  });

  it("accepts a well-formed order", () => {
    expect(parseOrderingCommand(place)).toEqual(place);
  });
});

describe("payments", () => {
  it.each([
    ["a NUL in the void reason", { type: "VoidPayment", customerId: "ada", orderId: "o-1", reason: "\u0000" }, "reason"],
    ["a currency with a NUL", { type: "OpenAccount", customerId: "ada", currency: "EUR\u0000", initialBalanceMinor: 0 }, "currency"],
    ["an amount of 0", { type: "AddFunds", customerId: "ada", amountMinor: 0 }, "amountMinor"],
  ])("refuses %s with VALIDATION naming the field", (_, command, field) => {
    expect(refusal(() => parsePaymentsCommand(command))).toEqual({ code: "VALIDATION", field });
  });

  it("accepts an opening balance of 0", () => {
    expect(parsePaymentsCommand({ type: "OpenAccount", customerId: "ada", currency: "EUR", initialBalanceMinor: 0 })).toMatchObject({ initialBalanceMinor: 0 });
  });
});
