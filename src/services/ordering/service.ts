import { join } from "node:path";
import { ordersProjection } from "../../../projections/ordering/orders/projection";
import { salesDashboardProjection } from "../../../projections/ordering/salesDashboard/projection";
import { CommandHandler } from "../../platform/aggregate/commandHandler";
import type { ServiceDefinition } from "../../platform/service";
import { orderingErrorCatalogue } from "./errors";
import { orderingEventSchemas } from "./events";
import { parseOrderingCommand } from "./commandSchemas";
import { checkoutSaga } from "./checkoutSaga";
import { orderDecider, orderStreamId } from "./decider";
import { OrderFields, OrderingMutations, OrderingQueries, OrderingSubscriptions, orderNode, SalesDashboardFields, salesDashboardNode } from "./resolvers";

/**
 * Ordering owns the order streams. The sales dashboard lives here although it
 * also reads payment events: it answers questions about sales, which is this context's API.
 */
export const orderingService: ServiceDefinition = {
  name: "ordering",
  events: orderingEventSchemas,
  projections: [ordersProjection, salesDashboardProjection],
  resolvers: [OrderingQueries, OrderFields, SalesDashboardFields, OrderingMutations, OrderingSubscriptions],
  errors: orderingErrorCatalogue,
  nodes: [orderNode, salesDashboardNode],
  sagas: [checkoutSaga],
  // Plain files, copied into dist by the build: the page runs in the browser, not in this process.
  pages: [{ path: "/dashboard", directory: join(__dirname, "dashboard"), title: "Sales dashboard" }],
  createExecutor({ store, handlerOptions }) {
    const handler = new CommandHandler(store, orderDecider, handlerOptions);
    return (command, context) => {
      // Parsed, not cast: a malformed or forged job is a VALIDATION refusal, answered once and never retried.
      const c = parseOrderingCommand(command);
      return handler.handle(orderStreamId(c.orderId), c, context);
    };
  },
};
