import { DomainError } from "../core/errors";
import { globalId, parseGlobalId } from "./globalId";

const TYPES = ["Product", "Order"];

function refusal(id: string): Record<string, unknown> {
  try {
    parseGlobalId(id, TYPES);
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, field: error.details["field"] };
  }
  return {};
}

it("round-trips a type and a key, keys with ':' included", () => {
  expect(parseGlobalId(globalId("Product", "TEA-001"), TYPES)).toEqual({ typename: "Product", key: "TEA-001" });
  expect(parseGlobalId(globalId("Order", "shop:order:42"), TYPES)).toEqual({ typename: "Order", key: "shop:order:42" });
});

it.each(["TEA-001", ":TEA-001", "Product:", "Saga:x", "product:TEA-001", `Product:${"X".repeat(257)}`, "Product:a\nb"])(
  "refuses %j with VALIDATION",
  (id) => {
    expect(refusal(id)).toEqual({ code: "VALIDATION", field: "id" });
  },
);
