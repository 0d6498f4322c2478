/** What callers ask of a customer's account. Imperative names; each may be refused. The customer id routes to the stream. */
export type OpenAccount = { type: "OpenAccount"; customerId: string; currency: string; initialBalanceMinor: number };
export type AddFunds = { type: "AddFunds"; customerId: string; amountMinor: number };
/** available → held, or the event PaymentDeclined when too little is available. At most once per order. */
export type AuthorizePayment = { type: "AuthorizePayment"; customerId: string; orderId: string; amountMinor: number };
/** held → captured. */
export type CapturePayment = { type: "CapturePayment"; customerId: string; orderId: string };
/** held → available; with no payment yet, a tombstone that refuses a later authorization. */
export type VoidPayment = { type: "VoidPayment"; customerId: string; orderId: string; reason: string };
/** captured → available. */
export type RefundPayment = { type: "RefundPayment"; customerId: string; orderId: string };

export type PaymentsCommand = OpenAccount | AddFunds | AuthorizePayment | CapturePayment | VoidPayment | RefundPayment;

export type PaymentsCommandType = PaymentsCommand["type"];
