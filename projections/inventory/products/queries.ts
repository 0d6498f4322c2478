import type { Page, ReadModelStore } from "../../../src/platform/projection/readModelStore";
import { PRODUCTS, productIndex, type ProductView } from "./projection";

export interface ProductListRequest {
  first: number;
  after?: string | null;
  sortBy: "sku" | "name";
  descending: boolean;
  /** Only products with stock available. */
  inStock: boolean;
}

/** A page of the catalog, and how many products match across all pages. */
export async function listProducts(readModels: ReadModelStore, request: ProductListRequest): Promise<Page<ProductView> & { totalCount: number }> {
  const index =
    request.sortBy === "name"
      ? request.inStock ? productIndex.inStockByName : productIndex.byName
      : request.inStock ? productIndex.inStockBySku : productIndex.bySku;
  const [page, totalCount] = await Promise.all([
    readModels.page<ProductView>(PRODUCTS, index, { first: request.first, after: request.after, descending: request.descending }),
    readModels.count(PRODUCTS, index),
  ]);
  return { ...page, totalCount };
}

/** What a product sells for now; null for a SKU the catalog does not have. */
export async function productPrice(readModels: ReadModelStore, sku: string): Promise<{ priceMinor: number; currency: string } | null> {
  const product = await readModels.get<ProductView>(PRODUCTS, sku);
  return product && { priceMinor: product.priceMinor, currency: product.currency };
}
