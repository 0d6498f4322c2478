import { createHash } from "node:crypto";
import type { CommandContext, CommandOutcome } from "../../platform/aggregate/commandHandler";
import type { CommandBus } from "../../platform/bus/commandBus";
import { serviceClient } from "../../platform/bus/serviceClient";
import { NotFoundError, ValidationError } from "../../platform/core/errors";
import { validSku } from "../../platform/aggregate/validation";
import { parseOrderingCommand } from "./commandSchemas";
import { orderingContract } from "./contract";
import type { PlaceOrder } from "./commands";
import { limits } from "./validation";

/** What a SKU sells for now. */
export interface CatalogPrice {
  priceMinor: number;
  currency: string;
}

/** The port to the catalog: Ordering prices orders from it but does not own it. */
export interface Catalog {
  /** Null for a SKU the catalog does not have. */
  priceOf(sku: string): Promise<CatalogPrice | null>;
}

/** An order as a caller asks for it: SKUs and quantities; the prices come from the catalog. */
export interface OrderRequest {
  /** Derived from the command's idempotency key when absent. */
  orderId?: string | null;
  customerId: string;
  lines: ReadonlyArray<{ sku: string; quantity: number }>;
}

/**
 * The request as its sender stated it, to fingerprint the command with: taken
 * before pricing, so a resend after a price change is still the same command.
 */
export function orderAsked(request: OrderRequest): unknown {
  return {
    type: "PlaceOrder",
    orderId: request.orderId ?? null,
    customerId: request.customerId,
    lines: request.lines.map(({ sku, quantity }) => ({ sku, quantity })),
  };
}

/**
 * Places an order priced from the catalog, the same way for every transport
 * (GraphQL, jobs, sagas, tests). NOT_FOUND for an unknown SKU, VALIDATION for
 * products priced in more than one currency.
 */
export async function placeOrder(
  deps: { catalog: Catalog; commands: CommandBus },
  request: OrderRequest,
  context: CommandContext,
): Promise<{ orderId: string; outcome: CommandOutcome }> {
  const priced = await pricedOrder(deps.catalog, request, context.commandId);
  const command = parseOrderingCommand(priced);
  return { orderId: priced.orderId, outcome: await serviceClient(deps.commands, orderingContract).send(command, context) };
}

/** The PlaceOrder command for a request: its lines priced from the catalog, its id given or derived. The decider validates everything else. */
export async function pricedOrder(catalog: Catalog, request: OrderRequest, commandId: string): Promise<PlaceOrder> {
  const { lines } = request;
  // Checked before pricing too, so a request never makes us read more products than an order may hold,
  // nor look up a SKU that could not exist.
  if (lines.length < 1 || lines.length > limits.maxLines) {
    throw new ValidationError("lines", lines, `1 to ${limits.maxLines} lines`);
  }
  lines.forEach((line, i) => validSku(`lines[${i}].sku`, line.sku));
  const prices = await Promise.all(lines.map((line) => catalog.priceOf(line.sku)));
  const priced = lines.map((line, i) => {
    const price = prices[i];
    if (!price) throw new NotFoundError("Product", line.sku);
    return { line: { sku: line.sku, quantity: line.quantity, unitPriceMinor: price.priceMinor }, currency: price.currency };
  });
  const currencies = [...new Set(priced.map((p) => p.currency))];
  if (currencies.length > 1) {
    throw new ValidationError("lines", currencies.join(", "), "products priced in one currency");
  }
  return {
    type: "PlaceOrder",
    // Derived from the idempotency key, so a retried call without an orderId names the same order as the first,
    // and two callers using the same commandId (scoped to each of them) place two orders.
    orderId: request.orderId ?? orderIdFor(commandId),
    customerId: request.customerId,
    lines: priced.map((p) => p.line),
    currency: currencies[0]!,
  };
}

/** A UUID-shaped id (version 8: custom) hashed from the commandId. */
export function orderIdFor(commandId: string): string {
  const hex = createHash("sha256").update(`ordering.order:${commandId}`).digest("hex");
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
