import { stampOf } from "../../../src/platform/projection/stamp";
import type { DocumentProjection } from "../../../src/platform/projection/types";
import { type PaymentsEvent, paymentsContract, paymentsEventTypes } from "../../../src/services/payments/contract";
import { isEventOf } from "../../../src/platform/aggregate/contract";
import type { RecordedEvent } from "../../../src/platform/eventstore/types";

export type PaymentStatus = "AUTHORIZED" | "DECLINED" | "CAPTURED" | "VOIDED" | "REFUNDED";

export interface AccountPaymentView {
  orderId: string;
  amountMinor: number;
  status: PaymentStatus;
  /** For a declined payment: how much more the customer would have needed. */
  shortfallMinor?: number;
  updatedAt: string;
}

/** A customer's account: balances in minor units and every payment it has seen. */
export interface AccountView {
  customerId: string;
  currency: string;
  /** Money the customer can still spend. */
  availableMinor: number;
  /** Authorized for orders, neither captured nor voided yet. */
  heldMinor: number;
  /** Taken for shipped orders, less refunds. */
  capturedMinor: number;
  /** Most recently changed first; settled payments are kept. */
  payments: AccountPaymentView[];
  version: number;
  position: string;
  updatedAt: string;
}

export const ACCOUNTS = "accounts";
/** `account:<customerId>`: every change of one account. */
export const ACCOUNT_TOPIC = "account";

const isPaymentsEvent = (event: RecordedEvent) => isEventOf(event, paymentsContract);

export const accountsProjection: DocumentProjection<AccountView> = {
  name: ACCOUNTS,
  eventTypes: paymentsEventTypes,
  history: true,

  // Every Payments event names its customer's account.
  documentIds: (event) => (isPaymentsEvent(event) ? [event.data.customerId] : []),

  evolve(doc, recorded) {
    if (!isPaymentsEvent(recorded)) return doc;
    const next = applyEvent(doc, recorded, recorded.metadata.recordedAt);
    if (!next) return doc;
    return { ...next, ...stampOf(recorded) };
  },

  // An event for an account this read model never saw opened changes nothing, so it announces nothing.
  topics: (id, doc) => (doc ? [`${ACCOUNT_TOPIC}:${id}`] : []),
};

type AccountFields = Omit<AccountView, "version" | "position" | "updatedAt">;

/** Balances move exactly as the decider's state does, so available + held + captured is conserved here too. */
function applyEvent(doc: AccountView | null, event: PaymentsEvent, at: string): AccountFields | null {
  if (event.type === "AccountOpened") {
    if (doc) return null; // the decider refuses a second opening; never let it reset balances
    const d = event.data;
    return { customerId: d.customerId, currency: d.currency, availableMinor: d.initialBalanceMinor, heldMinor: 0, capturedMinor: 0, payments: [] };
  }
  if (!doc) return null; // never invent an account from a later event
  switch (event.type) {
    case "FundsAdded":
      return { ...doc, availableMinor: doc.availableMinor + event.data.amountMinor };
    case "PaymentAuthorized": {
      const { orderId, amountMinor } = event.data;
      return {
        ...doc,
        availableMinor: doc.availableMinor - amountMinor,
        heldMinor: doc.heldMinor + amountMinor,
        payments: upsert(doc.payments, { orderId, amountMinor, status: "AUTHORIZED", updatedAt: at }),
      };
    }
    case "PaymentDeclined": {
      const { orderId, amountMinor, shortfallMinor } = event.data;
      return { ...doc, payments: upsert(doc.payments, { orderId, amountMinor, status: "DECLINED", shortfallMinor, updatedAt: at }) };
    }
    case "PaymentCaptured": {
      const { orderId, amountMinor } = event.data;
      return {
        ...doc,
        heldMinor: doc.heldMinor - amountMinor,
        capturedMinor: doc.capturedMinor + amountMinor,
        payments: upsert(doc.payments, { orderId, amountMinor, status: "CAPTURED", updatedAt: at }),
      };
    }
    case "PaymentVoided": {
      // amountMinor is 0 for a tombstone (voided before any authorization): balances stay, the record is kept.
      const { orderId, amountMinor } = event.data;
      return {
        ...doc,
        availableMinor: doc.availableMinor + amountMinor,
        heldMinor: doc.heldMinor - amountMinor,
        payments: upsert(doc.payments, { orderId, amountMinor, status: "VOIDED", updatedAt: at }),
      };
    }
    case "PaymentRefunded": {
      const { orderId, amountMinor } = event.data;
      return {
        ...doc,
        availableMinor: doc.availableMinor + amountMinor,
        capturedMinor: doc.capturedMinor - amountMinor,
        payments: upsert(doc.payments, { orderId, amountMinor, status: "REFUNDED", updatedAt: at }),
      };
    }
  }
}

/** Moves the order's payment to the front with its new state: the list reads as recent activity. */
function upsert(payments: readonly AccountPaymentView[], payment: AccountPaymentView): AccountPaymentView[] {
  return [payment, ...payments.filter((p) => p.orderId !== payment.orderId)];
}
