import { DefineProductDocument, OpenAccountDocument, ProductDocument } from "../../test/graphql/generated";
import { request } from "../../test/support/graphqlClient";

/**
 * Products with plenty of stock and customers with plenty of money, spread
 * over many streams as real traffic is (a single hot stream serialises by
 * design); resolves once the catalog read model has them all.
 */
export async function seedCheckoutCatalog(url: string, tag: string, products: number, customers: number): Promise<void> {
  let last = "";
  for (let p = 0; p < products; p++) {
    const { defineProduct } = await request(url, DefineProductDocument, {
      input: { sku: `${tag}-${p}`, name: `${tag.toLowerCase()} ${p}`, priceMinor: 100, currency: "EUR", initialStock: 1_000_000 },
    });
    last = defineProduct.position!;
  }
  for (let c = 0; c < customers; c++) {
    await request(url, OpenAccountDocument, { customerId: `${tag.toLowerCase()}-${c}`, currency: "EUR", initialBalanceMinor: 10_000_000_000 });
  }
  await request(url, ProductDocument, { id: `${tag}-0`, waitFor: last });
}
