import { assertNever, type Decider } from "../../platform/aggregate/decider";
import { unknownCommandType } from "../../platform/aggregate/validation";
import { type PaymentsCommand } from "./commands";
import { paymentsCommandSchemas } from "./commandSchemas";
import { paymentsErrors, type PaymentTransitionTarget } from "./errors";
import type { PaymentsEvent } from "./events";
import { limits } from "./validation";

export type { PaymentStatus } from "./paymentStatus";
import type { PaymentStatus } from "./paymentStatus";

/** `amountMinor` is what was asked for; 0 for a void tombstone. */
export type Payment = Readonly<{ amountMinor: number; status: PaymentStatus }>;

export type OpenedAccount = Readonly<{
  status: "OPEN";
  customerId: string;
  currency: string;
  /** Money the customer can still spend. */
  available: number;
  /** Authorized for orders, neither captured nor voided yet. */
  held: number;
  /** Taken for shipped orders, less refunds. */
  captured: number;
  /** By order id. Settled payments and tombstones stay, so an order is never authorized twice. */
  payments: Readonly<Record<string, Payment>>;
}>;

/** Plain JSON data, so it can be logged, snapshotted or compared as is. */
export type AccountState = Readonly<{ status: "ABSENT" }> | OpenedAccount;

/** One stream per customer account. */
export function accountStreamId(customerId: string): string {
  return `payments.account-${customerId}`;
}

function opened(state: AccountState, customerId: string): OpenedAccount {
  if (state.status === "ABSENT") throw paymentsErrors.accountNotFound(customerId);
  return state;
}

// Order ids like "constructor" or "__proto__" are valid, so never let a lookup reach Object.prototype.
function paymentOf(account: OpenedAccount, orderId: string): Payment | undefined {
  return Object.hasOwn(account.payments, orderId) ? account.payments[orderId] : undefined;
}

/** The payment, when it is in `from`; otherwise INVALID_TRANSITION towards `to`. */
function paymentIn(account: OpenedAccount, orderId: string, from: PaymentStatus, to: PaymentTransitionTarget): Payment {
  const payment = paymentOf(account, orderId);
  if (payment?.status !== from) {
    throw paymentsErrors.invalidTransition(account.customerId, orderId, payment?.status ?? "NONE", to);
  }
  return payment;
}

// Commands arrive parsed against commandSchemas.ts (the service boundary), so only business rules are left here.
function decide(command: PaymentsCommand, state: AccountState): PaymentsEvent[] {
  const { customerId } = command;
  switch (command.type) {
    case "OpenAccount": {
      const { currency, initialBalanceMinor } = command;
      if (state.status !== "ABSENT") throw paymentsErrors.accountExists(customerId);
      return [{ type: "AccountOpened", data: { customerId, currency, initialBalanceMinor } }];
    }
    case "AddFunds": {
      const { amountMinor } = command;
      const account = opened(state, customerId);
      const balance = account.available + account.held + account.captured;
      if (balance + amountMinor > limits.maxBalanceMinor) {
        throw paymentsErrors.balanceLimitExceeded(customerId, amountMinor, balance, limits.maxBalanceMinor);
      }
      return [{ type: "FundsAdded", data: { customerId, amountMinor } }];
    }
    case "AuthorizePayment": {
      const { orderId, amountMinor } = command;
      const account = opened(state, customerId);
      const existing = paymentOf(account, orderId);
      if (existing) throw paymentsErrors.paymentExists(customerId, orderId, existing.status);
      if (amountMinor > account.available) {
        return [
          {
            type: "PaymentDeclined",
            data: { customerId, orderId, amountMinor, availableMinor: account.available, shortfallMinor: amountMinor - account.available },
          },
        ];
      }
      return [{ type: "PaymentAuthorized", data: { customerId, orderId, amountMinor } }];
    }
    case "CapturePayment": {
      const { orderId } = command;
      const { amountMinor } = paymentIn(opened(state, customerId), orderId, "AUTHORIZED", "CAPTURED");
      return [{ type: "PaymentCaptured", data: { customerId, orderId, amountMinor } }];
    }
    case "VoidPayment": {
      const { orderId, reason } = command;
      const payment = paymentOf(opened(state, customerId), orderId);
      if (!payment) return [{ type: "PaymentVoided", data: { customerId, orderId, amountMinor: 0, reason } }];
      switch (payment.status) {
        case "AUTHORIZED":
          return [{ type: "PaymentVoided", data: { customerId, orderId, amountMinor: payment.amountMinor, reason } }];
        case "VOIDED":
        case "DECLINED":
          return [];
        case "CAPTURED":
        case "REFUNDED":
          throw paymentsErrors.invalidTransition(customerId, orderId, payment.status, "VOIDED");
        default:
          return assertNever(payment.status);
      }
    }
    case "RefundPayment": {
      const { orderId } = command;
      const { amountMinor } = paymentIn(opened(state, customerId), orderId, "CAPTURED", "REFUNDED");
      return [{ type: "PaymentRefunded", data: { customerId, orderId, amountMinor } }];
    }
    default:
      return unknownCommandType(command, Object.keys(paymentsCommandSchemas));
  }
}

/** What evolve may change: the fold owns the state it updates (see Decider.evolve). */
type Draft = { -readonly [K in keyof OpenedAccount]: OpenedAccount[K] } & { payments: Record<string, Payment> };

// An own property, as an object literal would make: assigning would call Object.prototype's
// `__proto__` setter for order id "__proto__" instead of recording a payment.
function record(account: Draft, orderId: string, payment: Payment): Draft {
  Object.defineProperty(account.payments, orderId, { value: payment, enumerable: true, writable: true, configurable: true });
  return account;
}

// Events are facts already accepted by `decide`; evolve applies them and never refuses one.
// Every balance move is a transfer between available, held and captured, except AccountOpened and
// FundsAdded: so available + held + captured only ever grows by money paid in.
// It updates the state in place, so an event costs the same on an account with 10,000 payments as on a new one.
function evolve(state: AccountState, event: PaymentsEvent): AccountState {
  if (event.type === "AccountOpened") {
    const { customerId, currency, initialBalanceMinor } = event.data;
    return { status: "OPEN", customerId, currency, available: initialBalanceMinor, held: 0, captured: 0, payments: {} };
  }
  if (state.status === "ABSENT") return state;
  const account = state as Draft;
  switch (event.type) {
    case "FundsAdded":
      account.available += event.data.amountMinor;
      return account;
    case "PaymentAuthorized": {
      const { orderId, amountMinor } = event.data;
      account.available -= amountMinor;
      account.held += amountMinor;
      return record(account, orderId, { amountMinor, status: "AUTHORIZED" });
    }
    case "PaymentDeclined": {
      const { orderId, amountMinor } = event.data;
      return record(account, orderId, { amountMinor, status: "DECLINED" });
    }
    case "PaymentCaptured": {
      const { orderId, amountMinor } = event.data;
      account.held -= amountMinor;
      account.captured += amountMinor;
      return record(account, orderId, { amountMinor, status: "CAPTURED" });
    }
    case "PaymentVoided": {
      const { orderId, amountMinor } = event.data;
      account.available += amountMinor;
      account.held -= amountMinor;
      return record(account, orderId, { amountMinor, status: "VOIDED" });
    }
    case "PaymentRefunded": {
      const { orderId, amountMinor } = event.data;
      account.available += amountMinor;
      account.captured -= amountMinor;
      return record(account, orderId, { amountMinor, status: "REFUNDED" });
    }
    default:
      return assertNever(event);
  }
}

export const accountDecider: Decider<PaymentsCommand, PaymentsEvent, AccountState> = {
  initialState: Object.freeze({ status: "ABSENT" }),
  stateVersion: "payments.account@1",
  decide,
  evolve,
};
