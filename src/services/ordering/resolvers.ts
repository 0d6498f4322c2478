import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { ValidationError } from "../../platform/core/errors";
import { Scope } from "../../platform/graphql/auth";
import { COMMAND_ID, WAIT_FOR } from "../../platform/graphql/arguments";
import { connectionOf, type CountedConnection } from "../../platform/graphql/connection";
import { commandContext, readAfter, type RequestContext } from "../../platform/graphql/context";
import type { NodeDefinition } from "../../platform/graphql/node";
import { CommandResult } from "../../platform/graphql/types";
import type { ChangeNotification } from "../../platform/projection/types";
import type { FeedItem } from "../../platform/subscriptions/feeds";
import { AFTER, changeOf, follow } from "../../platform/graphql/feedResolving";
import { validId } from "../../platform/aggregate/validation";
import { AS_OF, AUDIT_TRAIL, auditTrail, readEntity } from "../../platform/graphql/entityHistory";
import type { HistoryPage } from "../../platform/projection/historyReader";
import { AsOfInput, HistoryEventConnection, HistoryPageArgs } from "../../platform/graphql/historyTypes";
import { sendCommand } from "../../platform/graphql/sendCommand";
import { ORDER_TOPIC, ORDERS, ORDERS_TOPIC, ordersProjection, type OrderView } from "../../../projections/ordering/orders/projection";
import { customerOrders } from "../../../projections/ordering/orders/queries";
import {
  emptySalesDashboard,
  SALES_DASHBOARD,
  SALES_DASHBOARD_ID,
  SALES_DASHBOARD_TOPIC,
  type SalesDashboardView,
} from "../../../projections/ordering/salesDashboard/projection";
import { readSalesDashboard, topProducts } from "../../../projections/ordering/salesDashboard/queries";
import { productPrice } from "../../../projections/inventory/products/queries";
import { ORDERING, orderingContract } from "./contract";
import type { OrderingCommand } from "./commands";
import { orderAsked, placeOrder } from "./placeOrder";
import { Order, OrderChange, OrderConnection, PlaceOrderInput, PlaceOrderResult, ProductSales, SalesDashboard } from "./schemaTypes";

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
  ): Promise<CountedConnection<OrderView>> {
    await readAfter(ctx, ORDERS, waitFor);
    return connectionOf(await customerOrders(ctx.readModels, customerId, { first, after }));
  }

  @Query(() => SalesDashboard)
  salesDashboard(
    @Arg("waitFor", () => String, { nullable: true, description: WAIT_FOR }) waitFor: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<SalesDashboard> {
    return salesDashboardAfter(ctx, waitFor);
  }
}

async function salesDashboardAfter(ctx: RequestContext, waitFor: string | null): Promise<SalesDashboard> {
  await readAfter(ctx, SALES_DASHBOARD, waitFor);
  return toSalesDashboard(await readSalesDashboard(ctx.readModels));
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
  load: async (ctx, key) => (key === SALES_DASHBOARD_ID ? salesDashboardAfter(ctx, null) : null),
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
@Authorized(Scope.command(ORDERING))
export class OrderingMutations {
  @Mutation(() => PlaceOrderResult, {
    description: "Places an order priced from the catalog; NOT_FOUND for an unknown SKU, VALIDATION for mixed currencies.",
  })
  async placeOrder(
    @Arg("input", () => PlaceOrderInput) input: PlaceOrderInput,
    @Arg("commandId", () => String, { nullable: true, description: COMMAND_ID }) commandId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<PlaceOrderResult> {
    const context = commandContext(ctx, commandId, orderAsked(input));
    const catalog = { priceOf: (sku: string) => productPrice(ctx.readModels, sku) };
    const { orderId, outcome } = await placeOrder({ catalog, commands: ctx.commands }, input, context);
    return Object.assign(new PlaceOrderResult(), CommandResult.from(outcome, context), { orderId });
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
    subscribe: ({ args, context }) => follow(context, ORDERS, `${ORDER_TOPIC}:${validId("id", args.id)}`, args.after),
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
    subscribe: ({ args, context }) => follow(context, ORDERS, ORDERS_TOPIC, args.after),
  })
  orderChanges(@Arg("after", () => String, { nullable: true, description: AFTER }) _after: string | null, @Root() root: FeedItem): OrderChange {
    return toOrderChange(changeOf<OrderView>(root));
  }

  @Subscription(() => SalesDashboard, {
    description: "The sales dashboard after every change (orders and payments), once the read model has it.",
    subscribe: ({ args, context }) => follow(context, SALES_DASHBOARD, SALES_DASHBOARD_TOPIC, args.after),
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
  // A change that deleted the document (none does today) reads as an empty dashboard, as before the first order.
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

function send(ctx: RequestContext, commandId: string | null, command: OrderingCommand): Promise<CommandResult> {
  return sendCommand(ctx, orderingContract, commandId, command);
}
