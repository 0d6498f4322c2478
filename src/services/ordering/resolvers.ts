import { createHash } from "node:crypto";
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { NotFoundError, ValidationError } from "../../platform/errors";
import { Scope } from "../../platform/graphql/auth";
import { commandContext, readAfter, type RequestContext } from "../../platform/graphql/context";
import type { NodeDefinition } from "../../platform/graphql/node";
import { CommandResult } from "../../platform/graphql/types";
import type { ChangeNotification } from "../../platform/projection/types";
import type { FeedItem } from "../../platform/subscriptions/feeds";
import { AFTER, changeOf, follow } from "../../platform/subscriptions/resolving";
import { validId } from "../../platform/validation";
import type { ReadModelStore } from "../../platform/projection/readModelStore";
import { AS_OF, AUDIT_TRAIL, auditTrail, readEntity } from "../../platform/history/entityHistory";
import type { HistoryPage } from "../../platform/history/historyReader";
import { AsOfInput, HistoryEventConnection, HistoryPageArgs } from "../../platform/history/schemaTypes";
import { ORDER_TOPIC, orderIndex, ORDERS, ORDERS_TOPIC, ordersProjection, type OrderView } from "../../../projections/orders";
import { PRODUCTS, type ProductView } from "../../../projections/products";
import {
  emptySalesDashboard,
  SALES_DASHBOARD,
  SALES_DASHBOARD_ID,
  SALES_DASHBOARD_TOPIC,
  topProducts,
  type SalesDashboardView,
} from "../../../projections/salesDashboard";
import type { OrderingCommand } from "./commands";
import {
  Order,
  OrderChange,
  OrderConnection,
  type OrderLineInput,
  PlaceOrderInput,
  PlaceOrderResult,
  ProductSales,
  SalesDashboard,
} from "./schemaTypes";
import { limits } from "./validation";
import { parseOrderingCommand } from "./commandSchemas";
import { validSku } from "../../platform/validation";

const WAIT_FOR = "Log position from a mutation: answer only once the read model includes it.";
const COMMAND_ID = "Idempotency key: resending a command with the same id returns the first result.";
const MAX_TOP_PRODUCTS = 100;

@Resolver()
@Authorized(Scope.query)
export class OrderingQueries {
  @Query(() => Order, { nullable: true, description: "An order; with asOf, as it was then (null if not placed yet, NOT_FOUND if never)." })
  order(
    @Arg("id", () => ID) id: string,
    @Arg("waitFor", () => String, { nullable: true, description: WAIT_FOR }) waitFor: string | null,
    @Arg("asOf", () => AsOfInput, { nullable: true, description: AS_OF }) asOf: AsOfInput | null,
    @Ctx() ctx: RequestContext,
  ): Promise<OrderView | null> {
    return readEntity(ctx, ordersProjection, "Order", id, { waitFor, asOf });
  }

  @Query(() => OrderConnection, { description: "A customer's orders, newest first." })
  async customerOrders(
    @Arg("customerId", () => ID) customerId: string,
    @Arg("first", () => Int, { defaultValue: 20 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("waitFor", () => String, { nullable: true, description: WAIT_FOR }) waitFor: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<OrderConnection> {
    await readAfter(ctx, ORDERS, waitFor);
    const index = orderIndex.byCustomer(customerId);
    const [page, totalCount] = await Promise.all([
      ctx.readModels.page<OrderView>(ORDERS, index, { first, after, descending: true }),
      ctx.readModels.count(ORDERS, index),
    ]);
    return {
      edges: page.nodes,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
      totalCount,
    };
  }

  @Query(() => SalesDashboard)
  salesDashboard(
    @Arg("waitFor", () => String, { nullable: true, description: WAIT_FOR }) waitFor: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<SalesDashboard> {
    return readSalesDashboard(ctx, waitFor);
  }
}

async function readSalesDashboard(ctx: RequestContext, waitFor: string | null): Promise<SalesDashboard> {
  await readAfter(ctx, SALES_DASHBOARD, waitFor);
  return toSalesDashboard(await ctx.readModels.get<SalesDashboardView>(SALES_DASHBOARD, SALES_DASHBOARD_ID));
}

/** `node(id: "Order:<orderId>")`: the order as `order(id:)` returns it. */
export const orderNode: NodeDefinition<OrderView> = {
  typename: "Order",
  scopes: [Scope.query],
  keyOf: (order) => order.id,
  load: (ctx, orderId) => readEntity(ctx, ordersProjection, "Order", orderId, {}),
};

/** The dashboard is one of a kind: `SalesDashboard:sales`, so that its query and its subscription update one cache entry. */
export const salesDashboardNode: NodeDefinition<SalesDashboard> = {
  typename: "SalesDashboard",
  scopes: [Scope.query],
  keyOf: () => SALES_DASHBOARD_ID,
  load: async (ctx, key) => (key === SALES_DASHBOARD_ID ? readSalesDashboard(ctx, null) : null),
};

@Resolver(() => SalesDashboard)
export class SalesDashboardFields {
  @FieldResolver(() => [ProductSales], { description: "Best-selling SKUs by units in orders not cancelled; ties by SKU." })
  topProducts(
    @Root() dashboard: SalesDashboard,
    @Arg("limit", () => Int, { defaultValue: 5 }) limit: number,
  ): ProductSales[] {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TOP_PRODUCTS) {
      throw new ValidationError("limit", limit, `an integer from 1 to ${MAX_TOP_PRODUCTS}`);
    }
    return topProducts(dashboard, limit);
  }
}

@Resolver(() => Order)
@Authorized(Scope.query)
export class OrderFields {
  @FieldResolver(() => ID, { description: "The order's key, as `order(id:)` and the mutations take it." })
  orderId(@Root() order: OrderView): string {
    return order.id;
  }

  @FieldResolver(() => HistoryEventConnection, { description: AUDIT_TRAIL })
  auditTrail(@Root() order: OrderView, @Args(() => HistoryPageArgs) page: HistoryPageArgs, @Ctx() ctx: RequestContext): Promise<HistoryPage> {
    return auditTrail(ctx, ordersProjection, order, order.id, page);
  }
}

@Resolver()
@Authorized(Scope.command("ordering"))
export class OrderingMutations {
  @Mutation(() => PlaceOrderResult, {
    description: "Places an order priced from the catalog; NOT_FOUND for an unknown SKU, VALIDATION for mixed currencies.",
  })
  async placeOrder(
    @Arg("input", () => PlaceOrderInput) input: PlaceOrderInput,
    @Arg("commandId", () => String, { nullable: true, description: COMMAND_ID }) commandId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<PlaceOrderResult> {
    // Fingerprinted as asked, before pricing: a resend after a price change is still the same command.
    const asked = { type: "PlaceOrder", orderId: input.orderId ?? null, customerId: input.customerId, lines: input.lines.map(({ sku, quantity }) => ({ sku, quantity })) };
    const context = commandContext(ctx, commandId, asked);
    // Derived from the scoped key, so a retried call without an orderId names the same order as the first,
    // and two callers using the same commandId place two orders.
    const orderId = input.orderId ?? orderIdFor(context.commandId);
    const { lines, currency } = await priceLines(ctx.readModels, input.lines);
    const command = parseOrderingCommand({ type: "PlaceOrder", orderId, customerId: input.customerId, lines, currency });
    const result = CommandResult.from(await ctx.commands.send("ordering", command, context), context);
    return Object.assign(new PlaceOrderResult(), result, { orderId });
  }

  @Mutation(() => CommandResult, { description: "Cancels a pending or confirmed order; cancelling twice changes nothing." })
  cancelOrder(
    @Arg("orderId", () => ID) orderId: string,
    @Arg("reason", () => String) reason: string,
    @Arg("commandId", () => String, { nullable: true, description: COMMAND_ID }) commandId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CommandResult> {
    return send(ctx, commandId, { type: "CancelOrder", orderId, reason });
  }

  @Mutation(() => CommandResult, { description: "Ships a confirmed order: its payment is captured and its stock committed." })
  markOrderShipped(
    @Arg("orderId", () => ID) orderId: string,
    @Arg("commandId", () => String, { nullable: true, description: COMMAND_ID }) commandId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CommandResult> {
    return send(ctx, commandId, { type: "MarkOrderShipped", orderId });
  }
}

@Resolver()
@Authorized(Scope.query)
export class OrderingSubscriptions {
  @Subscription(() => OrderChange, {
    description: "Every change of one order, once the read model has it.",
    subscribe: ({ args, context }) => follow(context as RequestContext, ORDERS, `${ORDER_TOPIC}:${validId("id", args.id)}`, args.after),
  })
  orderStatusChanged(
    @Arg("id", () => ID) _id: string,
    @Arg("after", () => String, { nullable: true, description: AFTER }) _after: string | null,
    @Root() root: FeedItem,
  ): OrderChange {
    return toOrderChange(changeOf<OrderView>(root));
  }

  @Subscription(() => OrderChange, {
    description: "Feed of the changes of all orders.",
    subscribe: ({ args, context }) => follow(context as RequestContext, ORDERS, ORDERS_TOPIC, args.after),
  })
  orderChanges(@Arg("after", () => String, { nullable: true, description: AFTER }) _after: string | null, @Root() root: FeedItem): OrderChange {
    return toOrderChange(changeOf<OrderView>(root));
  }

  @Subscription(() => SalesDashboard, {
    description: "The sales dashboard after every change (orders and payments), once the read model has it.",
    subscribe: ({ args, context }) => follow(context as RequestContext, SALES_DASHBOARD, SALES_DASHBOARD_TOPIC, args.after),
  })
  salesDashboardChanged(
    @Arg("after", () => String, { nullable: true, description: AFTER }) _after: string | null,
    @Root() root: FeedItem,
  ): SalesDashboard {
    const change = changeOf<SalesDashboardView>(root);
    return { ...toSalesDashboard(change.document), position: change.position };
  }
}

function toSalesDashboard(stored: SalesDashboardView | null): SalesDashboard {
  // Before the first order there is no document yet: that is an empty dashboard, not a missing one.
  const view = stored ?? emptySalesDashboard();
  const counts = view.ordersByStatus;
  return {
    ordersByStatus: { pending: counts.PENDING, confirmed: counts.CONFIRMED, shipped: counts.SHIPPED, cancelled: counts.CANCELLED },
    capturedRevenueMinor: view.capturedRevenueMinor,
    updatedAt: view.updatedAt,
    position: view.position,
    unitsBySku: view.unitsBySku,
  };
}

function toOrderChange(change: ChangeNotification<OrderView>): OrderChange {
  return { order: change.document, eventType: change.eventType, position: change.position };
}

/** Checked against the command's schema before anything is queued: a refusal costs the queue nothing. */
async function send(ctx: RequestContext, commandId: string | null, unchecked: OrderingCommand): Promise<CommandResult> {
  const command = parseOrderingCommand(unchecked);
  const context = commandContext(ctx, commandId, command);
  return CommandResult.from(await ctx.commands.send("ordering", command, context), context);
}

/** Prices each line from the catalog read model; the decider validates everything else. */
async function priceLines(
  readModels: ReadModelStore,
  lines: readonly OrderLineInput[],
): Promise<{ lines: Array<{ sku: string; quantity: number; unitPriceMinor: number }>; currency: string }> {
  // Checked before pricing too, so a request never makes us read more products than an order may hold,
  // nor look up a SKU that could not exist.
  if (lines.length < 1 || lines.length > limits.maxLines) {
    throw new ValidationError("lines", lines, `1 to ${limits.maxLines} lines`);
  }
  lines.forEach((line, i) => validSku(`lines[${i}].sku`, line.sku));
  const products = await Promise.all(lines.map((line) => readModels.get<ProductView>(PRODUCTS, line.sku)));
  const priced = lines.map((line, i) => {
    const product = products[i];
    if (!product) throw new NotFoundError("Product", line.sku);
    return { line: { sku: line.sku, quantity: line.quantity, unitPriceMinor: product.priceMinor }, currency: product.currency };
  });
  const currencies = [...new Set(priced.map((p) => p.currency))];
  if (currencies.length > 1) {
    throw new ValidationError("lines", currencies.join(", "), "products priced in one currency");
  }
  return { lines: priced.map((p) => p.line), currency: currencies[0]! };
}

/** A UUID-shaped id (version 8: custom) hashed from the commandId. */
function orderIdFor(commandId: string): string {
  const hex = createHash("sha256").update(`ordering.order:${commandId}`).digest("hex");
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
