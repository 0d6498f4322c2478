import { join } from "node:path";
import { ordersProjection } from "../../../projections/ordering/orders/projection";
import { salesDashboardProjection } from "../../../projections/ordering/salesDashboard/projection";
import { commandExecutor } from "../../platform/bus/commandExecutor";
import type { ServiceDefinition } from "../../platform/runtime/service";
import { orderingErrorCatalogue } from "./errors";
import { ORDERING, orderingContract } from "./contract";
import { checkoutSaga } from "./checkoutSaga";
import { orderDecider, orderStreamId } from "./decider";
import { OrderFields, OrderingMutations, OrderingQueries, OrderingSubscriptions, orderNode, SalesDashboardFields, salesDashboardNode } from "./resolvers";

/**
 * Ordering owns the order streams. The sales dashboard lives here although it
 * also reads payment events: it answers questions about sales, which is this context's API.
 */
export const orderingService: ServiceDefinition = {
  name: ORDERING,
  events: orderingContract.events,
  projections: [ordersProjection, salesDashboardProjection],
  resolvers: [OrderingQueries, OrderFields, SalesDashboardFields, OrderingMutations, OrderingSubscriptions],
  errors: orderingErrorCatalogue,
  nodes: [orderNode, salesDashboardNode],
  sagas: [checkoutSaga],
  // Plain files, copied into dist by the build: the page runs in the browser, not in this process.
  pages: [{ path: "/dashboard", directory: join(__dirname, "dashboard"), title: "Sales dashboard" }],
  createExecutor: (deps) => commandExecutor(deps, { decider: orderDecider, parse: orderingContract.parseCommand, streamOf: (c) => orderStreamId(c.orderId) }),
};
