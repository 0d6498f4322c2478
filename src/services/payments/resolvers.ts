import { SafeIntResolver } from "graphql-scalars";
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { Scope } from "../../platform/graphql/auth";
import { COMMAND_ID, WAIT_FOR } from "../../platform/graphql/arguments";
import type { RequestContext } from "../../platform/graphql/context";
import type { NodeDefinition } from "../../platform/graphql/node";
import { sendCommand } from "../../platform/graphql/sendCommand";
import { CommandResult } from "../../platform/graphql/types";
import type { FeedItem } from "../../platform/subscriptions/feeds";
import { AFTER, changeOf, follow } from "../../platform/graphql/feedResolving";
import { validId } from "../../platform/aggregate/validation";
import { PAYMENTS, paymentsContract } from "./contract";
import { AS_OF, AUDIT_TRAIL, auditTrail, readEntity } from "../../platform/graphql/entityHistory";
import type { HistoryPage } from "../../platform/projection/historyReader";
import { AsOfInput, HistoryEventConnection, HistoryPageArgs } from "../../platform/graphql/historyTypes";
import { ACCOUNT_TOPIC, ACCOUNTS, accountsProjection, type AccountView } from "../../../projections/payments/accounts/projection";
import type { PaymentsCommand } from "./commands";
import { Account, AccountChange } from "./schemaTypes";

@Resolver()
@Authorized(Scope.query)
export class PaymentsQueries {
  @Query(() => Account, { nullable: true, description: "A customer's account with all its payments; null if never opened." })
  account(
    @Arg("customerId", () => ID) customerId: string,
    @Arg("waitFor", () => String, { nullable: true, description: WAIT_FOR }) waitFor: string | null,
    @Arg("asOf", () => AsOfInput, { nullable: true, description: AS_OF }) asOf: AsOfInput | null,
    @Ctx() ctx: RequestContext,
  ): Promise<AccountView | null> {
    return readEntity(ctx, accountsProjection, "Account", customerId, { waitFor, asOf });
  }
}

@Resolver(() => Account)
@Authorized(Scope.query)
export class AccountFields {
  @FieldResolver(() => HistoryEventConnection, { description: AUDIT_TRAIL })
  auditTrail(@Root() account: AccountView, @Args(() => HistoryPageArgs) page: HistoryPageArgs, @Ctx() ctx: RequestContext): Promise<HistoryPage> {
    return auditTrail(ctx, accountsProjection, account, account.customerId, page);
  }
}

/** `node(id: "Account:<customerId>")`: the account as `account(customerId:)` returns it. */
export const accountNode: NodeDefinition<AccountView> = {
  typename: "Account",
  scopes: [Scope.query],
  keyOf: (account) => account.customerId,
  load: (ctx, customerId) => readEntity(ctx, accountsProjection, "Account", customerId, {}),
};

@Resolver()
@Authorized(Scope.command(PAYMENTS))
export class PaymentsMutations {
  @Mutation(() => CommandResult, { description: "Opens a customer's account; a customer has at most one." })
  openAccount(
    @Arg("customerId", () => ID) customerId: string,
    @Arg("currency", () => String, { description: "ISO 4217 code, e.g. EUR." }) currency: string,
    @Arg("initialBalanceMinor", () => SafeIntResolver, { defaultValue: 0 }) initialBalanceMinor: number,
    @Arg("commandId", () => String, { nullable: true, description: COMMAND_ID }) commandId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CommandResult> {
    return send(ctx, commandId, { type: "OpenAccount", customerId, currency, initialBalanceMinor });
  }

  @Mutation(() => CommandResult, { description: "Adds money to an open account's available balance." })
  addFunds(
    @Arg("customerId", () => ID) customerId: string,
    @Arg("amountMinor", () => SafeIntResolver) amountMinor: number,
    @Arg("commandId", () => String, { nullable: true, description: COMMAND_ID }) commandId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CommandResult> {
    return send(ctx, commandId, { type: "AddFunds", customerId, amountMinor });
  }
}

@Resolver()
@Authorized(Scope.query)
export class PaymentsSubscriptions {
  @Subscription(() => AccountChange, {
    description: "Every change of one account, once the read model has it.",
    subscribe: ({ args, context }) =>
      follow(context, ACCOUNTS, `${ACCOUNT_TOPIC}:${validId("customerId", args.customerId)}`, args.after),
  })
  accountChanged(
    @Arg("customerId", () => ID) _customerId: string,
    @Arg("after", () => String, { nullable: true, description: AFTER }) _after: string | null,
    @Root() root: FeedItem,
  ): AccountChange {
    const change = changeOf<AccountView>(root);
    return { account: change.document, eventType: change.eventType, position: change.position };
  }
}

function send(ctx: RequestContext, commandId: string | null, command: PaymentsCommand): Promise<CommandResult> {
  return sendCommand(ctx, paymentsContract, commandId, command);
}
