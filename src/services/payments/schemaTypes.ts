import { SafeIntResolver } from "graphql-scalars";
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../../platform/graphql/node";
import type { PaymentStatus as PaymentStatusName } from "../../../projections/payments/accounts/projection";

// A plain object rather than a TS enum, so fields keep the read model's string union as their type;
// `satisfies` makes a status missing from (or unknown to) the read model a compile error.
export const PaymentStatus = {
  AUTHORIZED: "AUTHORIZED",
  DECLINED: "DECLINED",
  CAPTURED: "CAPTURED",
  VOIDED: "VOIDED",
  REFUNDED: "REFUNDED",
} as const satisfies Record<PaymentStatusName, PaymentStatusName>;
registerEnumType(PaymentStatus, { name: "PaymentStatus" });

@ObjectType({ description: "The payment of one order from an account." })
export class AccountPayment {
  @Field(() => ID)
  orderId!: string;

  @Field(() => SafeIntResolver, { description: "In minor units; 0 for a payment voided before it was authorized." })
  amountMinor!: number;

  @Field(() => PaymentStatus)
  status!: PaymentStatusName;

  @Field(() => String)
  updatedAt!: string;
}

@ObjectType({ description: "A customer's account as last projected; all amounts in minor units of its currency.", implements: Node })
export class Account {
  @Field(() => ID, { description: "The account's key, as `account(customerId:)` and the mutations take it." })
  customerId!: string;

  @Field(() => String, { description: "ISO 4217 code, e.g. EUR." })
  currency!: string;

  @Field(() => SafeIntResolver, { description: "Money the customer can still spend." })
  availableMinor!: number;

  @Field(() => SafeIntResolver, { description: "Authorized for orders, neither captured nor voided yet." })
  heldMinor!: number;

  @Field(() => SafeIntResolver, { description: "Taken for shipped orders, less refunds." })
  capturedMinor!: number;

  @Field(() => [AccountPayment], { description: "Every payment, most recently changed first." })
  payments!: AccountPayment[];

  @Field(() => Int, { description: "Version of the account's stream this view reflects." })
  version!: number;

  @Field(() => String, { description: "Log position of the last event this view reflects." })
  position!: string;

  @Field(() => String)
  updatedAt!: string;
}

@ObjectType({ description: "An account after a change, pushed once the read model has it." })
export class AccountChange {
  @Field(() => Account, { nullable: true })
  account!: Account | null;

  @Field(() => String)
  eventType!: string;

  @Field(() => String)
  position!: string;
}
