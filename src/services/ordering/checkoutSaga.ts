import { z } from "zod";
import { isEvent } from "../../platform/aggregate/contract";
import { ValidationError } from "../../platform/core/errors";
import type { SagaDefinition, SagaState, SagaStep, StepReply, StepVerdict } from "../../platform/saga/types";
import { INVENTORY, inventoryContract } from "../inventory/contract";
import { PAYMENTS, paymentsContract } from "../payments/contract";
import { ORDERING, orderingContract } from "./contract";
import { OrderingErrorCode } from "./errors";

/**
 * Checkout, orchestrated: reserve every line, authorize the payment, confirm.
 * When a forward step fails or the deadline passes: release what may be
 * reserved, cancel the order, and void the payment if one may be authorized
 * (a void before any authorization leaves a tombstone, so a late one is refused).
 */
const checkoutDataSchema = z.object({
  orderId: z.string(),
  customerId: z.string(),
  lines: z.array(z.object({ sku: z.string(), quantity: z.number().int() })),
  totalMinor: z.number().int(),
});
export type CheckoutData = z.infer<typeof checkoutDataSchema>;

/** The services a checkout sends commands to: each step's command is checked against its target's contract. */
type CheckoutTargets = typeof inventoryContract | typeof paymentsContract | typeof orderingContract;
type CheckoutStep = SagaStep<CheckoutTargets>;

export const CHECKOUT_DEADLINE_MS = 30_000;

const reserveStep = (sku: string) => `reserve:${sku}`;
const releaseStep = (sku: string) => `release:${sku}`;

/** A step whose command may have taken effect: it succeeded, or no answer came before the deadline. */
function mayHaveApplied(state: SagaState<CheckoutData>, step: string): boolean {
  const status = state.steps[step]?.status;
  return status === "SUCCEEDED" || status === "STARTED";
}

function done(state: SagaState<CheckoutData>, step: string): boolean {
  const status = state.steps[step]?.status;
  return status === "SUCCEEDED" || status === "FAILED";
}

/**
 * Why the checkout is compensated, from the forward step that failed, never from a later failure of a
 * compensation (lastError): a resent compensation must be the same command, or its idempotency key is
 * refused as reused (IDEMPOTENCY_KEY_REUSED), e.g. a cancel resent by a redrive after it failed.
 */
function cancelReason(state: SagaState<CheckoutData>): string {
  if (state.deadlinePassed) return "checkout timed out";
  const failed = Object.entries(state.steps).find(([step, s]) => s.status === "FAILED" && (step.startsWith("reserve:") || step === "authorize" || step === "confirm"));
  const error = failed ? { step: failed[0], code: failed[1].code ?? "UNKNOWN" } : null;
  if (!error) return "checkout failed";
  if (error.code === "OUT_OF_STOCK") return `out of stock: ${error.step.replace(/^reserve:/, "")}`;
  if (error.code === OrderingErrorCode.PAYMENT_DECLINED) return "payment declined";
  return `checkout failed at ${error.step}: ${error.code}`;
}

function nextForward(state: SagaState<CheckoutData>): CheckoutStep | { finished: "COMPLETED" } {
  const { orderId, customerId, lines, totalMinor } = state.data;
  for (const { sku, quantity } of lines) {
    if (!done(state, reserveStep(sku))) {
      return { id: reserveStep(sku), service: INVENTORY, command: { type: "ReserveStock", sku, orderId, quantity }, compensation: false };
    }
  }
  if (!done(state, "authorize")) {
    return {
      id: "authorize",
      service: PAYMENTS,
      command: { type: "AuthorizePayment", customerId, orderId, amountMinor: totalMinor },
      compensation: false,
    };
  }
  if (!done(state, "confirm")) {
    return { id: "confirm", service: ORDERING, command: { type: "ConfirmOrder", orderId }, compensation: false };
  }
  return { finished: "COMPLETED" };
}

function nextCompensation(state: SagaState<CheckoutData>): CheckoutStep | { finished: "COMPENSATED" } {
  const { orderId, customerId, lines } = state.data;
  for (const { sku } of [...lines].reverse()) {
    if (mayHaveApplied(state, reserveStep(sku)) && !done(state, releaseStep(sku))) {
      return { id: releaseStep(sku), service: INVENTORY, command: { type: "ReleaseStock", sku, orderId, tombstone: true }, compensation: true };
    }
  }
  if (!done(state, "cancel")) {
    return {
      id: "cancel",
      service: ORDERING,
      command: { type: "CancelOrder", orderId, reason: cancelReason(state) },
      compensation: true,
    };
  }
  if (mayHaveApplied(state, "authorize") && !done(state, "void")) {
    return {
      id: "void",
      service: PAYMENTS,
      command: { type: "VoidPayment", customerId, orderId, reason: cancelReason(state) },
      compensation: true,
    };
  }
  return { finished: "COMPENSATED" };
}

function judge(step: CheckoutStep, reply: StepReply): StepVerdict {
  if (step.id === "authorize" && reply.ok && !reply.events.includes("PaymentAuthorized")) {
    return { ok: false, code: OrderingErrorCode.PAYMENT_DECLINED, message: "the payment was declined: insufficient funds" };
  }
  if (reply.ok) return { ok: true };
  // Releasing what was never held, or is already settled, leaves nothing to undo.
  if (step.id.startsWith("release:") && (reply.code === "RESERVATION_NOT_FOUND" || reply.code === "RESERVATION_SETTLED")) {
    return { ok: true };
  }
  return { ok: false, code: reply.code, message: reply.message };
}

export const checkoutSaga: SagaDefinition<CheckoutData, CheckoutTargets> = {
  name: "checkout",
  triggerTypes: ["OrderPlaced"],
  deadlineMs: CHECKOUT_DEADLINE_MS,
  start(event) {
    if (!isEvent(event, orderingContract, "OrderPlaced")) return null;
    const { orderId, customerId, lines, totalMinor } = event.data;
    return { id: orderId, data: { orderId, customerId, totalMinor, lines: lines.map(({ sku, quantity }) => ({ sku, quantity })) } };
  },
  parseData(data) {
    const parsed = checkoutDataSchema.safeParse(data);
    if (!parsed.success) throw new ValidationError("data", data, "checkout data: orderId, customerId, lines of { sku, quantity }, totalMinor");
    return parsed.data;
  },
  next: (state) => (state.status === "RUNNING" ? nextForward(state) : nextCompensation(state)),
  judge,
};
