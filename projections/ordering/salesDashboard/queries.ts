import type { ReadModelStore } from "../../../src/platform/projection/readModelStore";
import { emptySalesDashboard, SALES_DASHBOARD, SALES_DASHBOARD_ID, type SalesDashboardView } from "./projection";

/** The dashboard; before the first order there is no document yet, which is an empty dashboard, not a missing one. */
export async function readSalesDashboard(readModels: ReadModelStore): Promise<SalesDashboardView> {
  return (await readModels.get<SalesDashboardView>(SALES_DASHBOARD, SALES_DASHBOARD_ID)) ?? emptySalesDashboard();
}

export interface ProductSales {
  sku: string;
  units: number;
}

/** The best-selling SKUs by units (not cancelled), ties broken by SKU so the answer is stable. */
export function topProducts(view: Pick<SalesDashboardView, "unitsBySku">, limit: number): ProductSales[] {
  return Object.entries(view.unitsBySku)
    .filter(([, units]) => units > 0)
    .map(([sku, units]) => ({ sku, units }))
    .sort((a, b) => b.units - a.units || (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))
    .slice(0, limit);
}
