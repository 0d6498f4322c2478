import type { ServiceContract } from "../../platform/aggregate/contract";
import { parsePaymentsCommand, paymentsCommandSchemas } from "./commandSchemas";
import type { PaymentsCommand } from "./commands";
import { paymentsEventSchemas } from "./events";

/**
 * Payments' public face: the only file of this folder other services, sagas
 * and projections import. Its name is its queue's and inbox's.
 */
export const PAYMENTS = "payments";

export type { PaymentsCommand } from "./commands";
export type { PaymentsEvent, PaymentsEventType } from "./events";
export { paymentsEventTypes } from "./events";

export const paymentsContract: ServiceContract<typeof PAYMENTS, typeof paymentsEventSchemas, PaymentsCommand> = {
  name: PAYMENTS,
  events: paymentsEventSchemas,
  commands: paymentsCommandSchemas,
  parseCommand: parsePaymentsCommand,
};
