import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { SafeIntResolver } from "graphql-scalars";
import { Scope } from "../../platform/graphql/auth";
import { COMMAND_ID, WAIT_FOR } from "../../platform/graphql/arguments";
import { connectionOf, type CountedConnection } from "../../platform/graphql/connection";
import { readAfter, type RequestContext } from "../../platform/graphql/context";
import type { NodeDefinition } from "../../platform/graphql/node";
import { sendCommand } from "../../platform/graphql/sendCommand";
import { CommandResult } from "../../platform/graphql/types";
import { validSku } from "../../platform/aggregate/validation";
import type { FeedItem } from "../../platform/subscriptions/feeds";
import { AFTER, changeOf, follow } from "../../platform/graphql/feedResolving";
import { INVENTORY, inventoryContract } from "./contract";
import { AS_OF, AUDIT_TRAIL, auditTrail, readEntity } from "../../platform/graphql/entityHistory";
import type { HistoryPage } from "../../platform/projection/historyReader";
import { AsOfInput, HistoryEventConnection, HistoryPageArgs } from "../../platform/graphql/historyTypes";
import { PRODUCT_TOPIC, PRODUCTS, productsProjection, type ProductView, STOCK_LEVELS_TOPIC } from "../../../projections/inventory/products/projection";
import { listProducts } from "../../../projections/inventory/products/queries";
import type { InventoryCommand } from "./commands";
import { DefineProductInput, Product, ProductChange, ProductConnection, ProductSort, StockLevel } from "./schemaTypes";

@Resolver()
@Authorized(Scope.query)
export class InventoryQueries {
  @Query(() => Product, { nullable: true, description: "A product; with asOf, as it was then (null if not defined yet, NOT_FOUND if never)." })
  product(
    @Arg("id", () => ID) id: string,
    @Arg("waitFor", () => String, { nullable: true, description: WAIT_FOR }) waitFor: string | null,
    @Arg("asOf", () => AsOfInput, { nullable: true, description: AS_OF }) asOf: AsOfInput | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ProductView | null> {
    return readEntity(ctx, productsProjection, "Product", id, { waitFor, asOf });
  }

  @Query(() => ProductConnection)
  async products(
    @Arg("first", () => Int, { defaultValue: 20 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("sort", () => ProductSort, { defaultValue: ProductSort.SKU }) sort: ProductSort,
    @Arg("descending", () => Boolean, { defaultValue: false }) descending: boolean,
    @Arg("inStock", () => Boolean, { defaultValue: false, description: "Only products with stock available." })
    inStock: boolean,
    @Arg("waitFor", () => String, { nullable: true, description: WAIT_FOR }) waitFor: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CountedConnection<ProductView>> {
    await readAfter(ctx, PRODUCTS, waitFor);
    const sortBy = sort === ProductSort.NAME ? "name" : "sku";
    return connectionOf(await listProducts(ctx.readModels, { first, after, sortBy, descending, inStock }));
  }
}

@Resolver(() => Product)
@Authorized(Scope.query)
export class ProductFields {
  @FieldResolver(() => HistoryEventConnection, { description: AUDIT_TRAIL })
  auditTrail(@Root() product: ProductView, @Args(() => HistoryPageArgs) page: HistoryPageArgs, @Ctx() ctx: RequestContext): Promise<HistoryPage> {
    return auditTrail(ctx, productsProjection, product, product.id, page);
  }
}

/** `node(id: "Product:<sku>")`: the product as `product(id:)` returns it. */
export const productNode: NodeDefinition<ProductView> = {
  typename: "Product",
  scopes: [Scope.query],
  keyOf: (product) => product.id,
  load: (ctx, sku) => readEntity(ctx, productsProjection, "Product", sku, {}),
};

@Resolver()
@Authorized(Scope.command(INVENTORY))
export class InventoryMutations {
  @Mutation(() => CommandResult, { description: "Adds a product to the catalog; its SKU must be new." })
  defineProduct(
    @Arg("input", () => DefineProductInput) input: DefineProductInput,
    @Arg("commandId", () => String, { nullable: true, description: COMMAND_ID }) commandId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CommandResult> {
    return send(ctx, commandId, { type: "DefineProduct", ...input });
  }

  @Mutation(() => CommandResult)
  changeProductPrice(
    @Arg("sku", () => String) sku: string,
    @Arg("priceMinor", () => SafeIntResolver) priceMinor: number,
    @Arg("commandId", () => String, { nullable: true, description: COMMAND_ID }) commandId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CommandResult> {
    return send(ctx, commandId, { type: "ChangePrice", sku, priceMinor });
  }

  @Mutation(() => CommandResult)
  restockProduct(
    @Arg("sku", () => String) sku: string,
    @Arg("quantity", () => Int) quantity: number,
    @Arg("commandId", () => String, { nullable: true, description: COMMAND_ID }) commandId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CommandResult> {
    return send(ctx, commandId, { type: "Restock", sku, quantity });
  }
  // ReserveStock, ReleaseStock and CommitStock are not mutations: only the checkout saga and the
  // order-stock reactor send them, for orders they follow. A client could otherwise hold stock for an
  // order that does not exist, or release a confirmed order's reservation.
}

@Resolver()
@Authorized(Scope.query)
export class InventorySubscriptions {
  @Subscription(() => ProductChange, {
    description: "Every change of one product, once the read model has it.",
    subscribe: ({ args, context }) =>
      follow(context, PRODUCTS, `${PRODUCT_TOPIC}:${validSku("id", args.id)}`, args.after),
  })
  productChanged(
    @Arg("id", () => ID) _id: string,
    @Arg("after", () => String, { nullable: true, description: AFTER }) _after: string | null,
    @Root() root: FeedItem,
  ): ProductChange {
    const change = changeOf<ProductView>(root);
    return { product: change.document, eventType: change.eventType, position: change.position };
  }

  @Subscription(() => StockLevel, {
    description: "Feed of stock movements across all products.",
    subscribe: ({ args, context }) => follow(context, PRODUCTS, STOCK_LEVELS_TOPIC, args.after),
  })
  stockLevels(@Arg("after", () => String, { nullable: true, description: AFTER }) _after: string | null, @Root() root: FeedItem): StockLevel {
    const change = changeOf<ProductView>(root);
    const doc = change.document;
    return {
      sku: change.id,
      available: doc?.available ?? 0,
      reserved: doc?.reserved ?? 0,
      eventType: change.eventType,
      position: change.position,
    };
  }
}

function send(ctx: RequestContext, commandId: string | null, command: InventoryCommand): Promise<CommandResult> {
  return sendCommand(ctx, inventoryContract, commandId, command);
}
