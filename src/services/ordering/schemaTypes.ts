import { SafeIntResolver } from "graphql-scalars";
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../../platform/graphql/node";
import { connectionType } from "../../platform/graphql/connection";
import { CommandResult } from "../../platform/graphql/types";
import type { OrderStatus as OrderStatusName } from "../../../projections/ordering/orders/projection";

// A plain object rather than a TS enum, so fields keep the read model's string union as their type;
// `satisfies` makes a status missing from (or unknown to) the read model a compile error.
export const OrderStatus = {
  PENDING: "PENDING",
  CONFIRMED: "CONFIRMED",
  SHIPPED: "SHIPPED",
  CANCELLED: "CANCELLED",
} as const satisfies Record<OrderStatusName, OrderStatusName>;
registerEnumType(OrderStatus, { name: "OrderStatus" });

@ObjectType()
export class OrderLine {
  @Field(() => String)
  sku!: string;

  @Field(() => Int)
  quantity!: number;

  @Field(() => SafeIntResolver, { description: "Catalog price when the order was placed, in minor units." })
  unitPriceMinor!: number;

  @Field(() => SafeIntResolver)
  lineTotalMinor!: number;
}

@ObjectType({ description: "One step of an order's life." })
export class OrderHistoryEntry {
  @Field(() => OrderStatus, { description: "Status after this step." })
  status!: OrderStatusName;

  @Field(() => String)
  eventType!: string;

  @Field(() => String, { description: "When the event was recorded (ISO 8601)." })
  at!: string;

  @Field(() => String)
  position!: string;
}

@ObjectType({ description: "An order as last projected.", implements: Node })
export class Order {
  // `orderId` (its key) is resolved by OrderFields from the read model's `id`.
  @Field(() => ID)
  customerId!: string;

  @Field(() => OrderStatus)
  status!: OrderStatusName;

  @Field(() => [OrderLine])
  lines!: OrderLine[];

  @Field(() => SafeIntResolver, { description: "Sum of the line totals, in minor units." })
  totalMinor!: number;

  @Field(() => String, { description: "ISO 4217 code, e.g. EUR." })
  currency!: string;

  @Field(() => String, { nullable: true, description: "Why the order was cancelled; null unless it was." })
  cancelReason!: string | null;

  @Field(() => [OrderHistoryEntry], { description: "Oldest first." })
  history!: OrderHistoryEntry[];

  @Field(() => String)
  placedAt!: string;

  @Field(() => String)
  updatedAt!: string;

  @Field(() => Int, { description: "Version of the order's stream this view reflects." })
  version!: number;

  @Field(() => String, { description: "Log position of the last event this view reflects." })
  position!: string;
}

export const OrderConnection = connectionType("Order", Order, { totalCount: "Orders of this customer, across all pages." });

@InputType()
export class OrderLineInput {
  @Field(() => String)
  sku!: string;

  @Field(() => Int, { description: "1-1000 units." })
  quantity!: number;
}

@InputType()
export class PlaceOrderInput {
  @Field(() => ID, { nullable: true, description: "1-64 of A-Z a-z 0-9 _ . : -; derived from the commandId when absent." })
  orderId?: string | null;

  @Field(() => ID)
  customerId!: string;

  @Field(() => [OrderLineInput], { description: "1-50 lines, each SKU once; priced from the catalog." })
  lines!: OrderLineInput[];
}

@ObjectType({ description: "What placeOrder did, and the id of the order." })
export class PlaceOrderResult extends CommandResult {
  @Field(() => ID)
  orderId!: string;
}

@ObjectType({ description: "An order after a change, pushed once the read model has it." })
export class OrderChange {
  @Field(() => Order, { nullable: true })
  order!: Order | null;

  @Field(() => String)
  eventType!: string;

  @Field(() => String)
  position!: string;
}

@ObjectType()
export class OrderStatusCounts {
  @Field(() => Int)
  pending!: number;

  @Field(() => Int)
  confirmed!: number;

  @Field(() => Int)
  shipped!: number;

  @Field(() => Int)
  cancelled!: number;
}

@ObjectType()
export class ProductSales {
  @Field(() => String)
  sku!: string;

  @Field(() => Int, { description: "Units in orders that are not cancelled." })
  units!: number;
}

@ObjectType({ description: "Store-wide sales figures, as last projected; one of a kind, id 'SalesDashboard:sales'.", implements: Node })
export class SalesDashboard {
  @Field(() => OrderStatusCounts, { description: "Orders currently in each status." })
  ordersByStatus!: OrderStatusCounts;

  @Field(() => SafeIntResolver, {
    description: "Captured minus refunded, in minor units; amounts of all currencies are summed as they are.",
  })
  capturedRevenueMinor!: number;

  @Field(() => String, { nullable: true, description: "Null until the first order or payment." })
  updatedAt!: string | null;

  @Field(() => String, { nullable: true })
  position!: string | null;

  /** Not a field: `topProducts` is computed from it, with its own argument. */
  unitsBySku!: Record<string, number>;
}
