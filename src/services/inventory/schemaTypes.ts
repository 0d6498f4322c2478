import { SafeIntResolver } from "graphql-scalars";
import { Field, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../../platform/graphql/node";
import { connectionType } from "../../platform/graphql/connection";

@ObjectType({ description: "A product of the catalog with its stock, as last projected.", implements: Node })
export class Product {
  @Field(() => String, { description: "The SKU: the product's key, as `product(id:)` and the mutations take it." })
  sku!: string;

  @Field(() => String)
  name!: string;

  @Field(() => SafeIntResolver, { description: "Price in minor units of the currency (cents)." })
  priceMinor!: number;

  @Field(() => String, { description: "ISO 4217 code, e.g. EUR." })
  currency!: string;

  @Field(() => Int, { description: "Units that can still be reserved." })
  available!: number;

  @Field(() => Int, { description: "Units held by orders, neither released nor committed yet." })
  reserved!: number;

  @Field(() => Boolean)
  inStock!: boolean;

  @Field(() => Int, { description: "Version of the product's stream this view reflects." })
  version!: number;

  @Field(() => String, { description: "Log position of the last event this view reflects." })
  position!: string;

  @Field(() => String)
  updatedAt!: string;
}

export const ProductConnection = connectionType("Product", Product, { totalCount: "Products matching the filter, across all pages." });

export enum ProductSort {
  SKU = "SKU",
  NAME = "NAME",
}
registerEnumType(ProductSort, { name: "ProductSort" });

@InputType()
export class DefineProductInput {
  @Field(() => String, { description: "2-32 characters: A-Z, 0-9 and '-'." })
  sku!: string;

  @Field(() => String)
  name!: string;

  @Field(() => SafeIntResolver)
  priceMinor!: number;

  @Field(() => String)
  currency!: string;

  @Field(() => Int, { defaultValue: 0 })
  initialStock!: number;
}

@ObjectType({ description: "A product after a change, pushed once the read model has it." })
export class ProductChange {
  @Field(() => Product, { nullable: true })
  product!: Product | null;

  @Field(() => String)
  eventType!: string;

  @Field(() => String)
  position!: string;
}

@ObjectType({ description: "A movement of stock: defined, restocked, reserved, released or committed." })
export class StockLevel {
  @Field(() => String)
  sku!: string;

  @Field(() => Int)
  available!: number;

  @Field(() => Int)
  reserved!: number;

  @Field(() => String)
  eventType!: string;

  @Field(() => String)
  position!: string;
}
