import { accountsProjection } from "../../../projections/payments/accounts/projection";
import { commandExecutor } from "../../platform/bus/commandExecutor";
import type { ServiceDefinition } from "../../platform/runtime/service";
import { paymentsErrorCatalogue } from "./errors";
import { PAYMENTS, paymentsContract } from "./contract";
import { accountDecider, accountStreamId } from "./decider";
import { orderPaymentReactor } from "./reactions";
import { AccountFields, accountNode, PaymentsMutations, PaymentsQueries, PaymentsSubscriptions } from "./resolvers";

/** Payments owns the customer account streams: balances, authorizations, captures and refunds. */
export const paymentsService: ServiceDefinition = {
  name: PAYMENTS,
  events: paymentsContract.events,
  projections: [accountsProjection],
  resolvers: [PaymentsQueries, AccountFields, PaymentsMutations, PaymentsSubscriptions],
  errors: paymentsErrorCatalogue,
  nodes: [accountNode],
  reactors: [orderPaymentReactor],
  createExecutor: (deps) => commandExecutor(deps, { decider: accountDecider, parse: paymentsContract.parseCommand, streamOf: (c) => accountStreamId(c.customerId) }),
};
