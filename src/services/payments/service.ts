import { accountsProjection } from "../../../projections/payments/accounts/projection";
import { CommandHandler } from "../../platform/aggregate/commandHandler";
import type { ServiceDefinition } from "../../platform/service";
import { paymentsErrorCatalogue } from "./errors";
import { paymentsEventSchemas } from "./events";
import { parsePaymentsCommand } from "./commandSchemas";
import { accountDecider, accountStreamId } from "./decider";
import { orderPaymentReactor } from "./reactions";
import { AccountFields, accountNode, PaymentsMutations, PaymentsQueries, PaymentsSubscriptions } from "./resolvers";

/** Payments owns the customer account streams: balances, authorizations, captures and refunds. */
export const paymentsService: ServiceDefinition = {
  name: "payments",
  events: paymentsEventSchemas,
  projections: [accountsProjection],
  resolvers: [PaymentsQueries, AccountFields, PaymentsMutations, PaymentsSubscriptions],
  errors: paymentsErrorCatalogue,
  nodes: [accountNode],
  reactors: [orderPaymentReactor],
  createExecutor({ store, handlerOptions }) {
    const handler = new CommandHandler(store, accountDecider, handlerOptions);
    return (command, context) => {
      // Parsed, not cast: a malformed or forged job is a VALIDATION refusal, answered once and never retried.
      const c = parsePaymentsCommand(command);
      return handler.handle(accountStreamId(c.customerId), c, context);
    };
  },
};
