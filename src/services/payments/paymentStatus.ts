/** Where a payment stands; its own file so the errors can name statuses without importing the decider. */
export type PaymentStatus = "AUTHORIZED" | "DECLINED" | "CAPTURED" | "VOIDED" | "REFUNDED";
