import { Arg, Args, Authorized, Ctx, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription } from "type-graphql";
import { Scope } from "./auth";
import { commandContext, type RequestContext } from "./context";
import { Node, type NodeDefinition } from "./node";
import { connectionOf, type Connection, connectionType } from "./connection";
import { CommandResult } from "./types";
import type { FeedItem } from "../subscriptions/feeds";
import { AFTER, changeOf, follow } from "./feedResolving";
import { AS_OF, AUDIT_TRAIL, auditTrail, readEntity } from "./entityHistory";
import type { HistoryPage } from "../projection/historyReader";
import { AsOfInput, HistoryEventConnection, HistoryPageArgs } from "./historyTypes";
import { SAGA_TOPIC, sagaProjection, SAGAS, SAGAS_TOPIC, type SagaView } from "../saga/sagaProjection";
import { SAGA_SERVICE } from "../saga/sagaService";
import { validSagaId } from "../saga/types";

@ObjectType()
class SagaError {
  @Field(() => String) step!: string;
  @Field(() => String) code!: string;
  @Field(() => String) message!: string;
}

@ObjectType()
class SagaStepView {
  @Field(() => String) step!: string;
  @Field(() => String, { description: "STARTED, SUCCEEDED or FAILED" }) status!: string;
  @Field(() => String) at!: string;
  @Field(() => String, { nullable: true }) code?: string;
  @Field(() => String, { nullable: true }) message?: string;
}

@ObjectType()
class SagaHistoryEntry {
  @Field(() => String) type!: string;
  @Field(() => String, { nullable: true }) step!: string | null;
  @Field(() => String) at!: string;
}

@ObjectType({ description: "One saga instance: its current step, status, deadline, last error and step history.", implements: Node })
export class Saga {
  @Field(() => String, { description: "The instance id within its saga (the order id for checkout)." }) sagaId!: string;
  @Field(() => String) saga!: string;
  @Field(() => String, { description: "RUNNING, COMPENSATING, COMPLETED, COMPENSATED or FAILED" }) status!: string;
  @Field(() => String, { nullable: true }) currentStep!: string | null;
  @Field(() => String) deadlineAt!: string;
  @Field(() => Boolean) deadlinePassed!: boolean;
  @Field(() => SagaError, { nullable: true }) lastError!: SagaError | null;
  @Field(() => [SagaStepView]) steps!: SagaStepView[];
  @Field(() => [SagaHistoryEntry]) history!: SagaHistoryEntry[];
  @Field(() => String) startedAt!: string;
  @Field(() => String) updatedAt!: string;
  @Field(() => Int) version!: number;
}

const SagaConnection = connectionType("Saga", Saga);

/** `node(id: "Saga:<stream id>")`: the saga as `saga(id:)` returns it. */
export const sagaNode: NodeDefinition<SagaView> = {
  typename: "Saga",
  scopes: [Scope.query],
  keyOf: (saga) => saga.id,
  load: (ctx, id) => readEntity(ctx, sagaProjection, "Saga", id, {}),
};

@Resolver(() => Saga)
@Authorized(Scope.query)
export class SagaResolvers {
  @FieldResolver(() => ID, { description: "The saga's key, its stream id (e.g. saga.checkout-<orderId>), as `saga(id:)` and `redriveSaga(id:)` take it." })
  streamId(@Root() saga: SagaView): string {
    return saga.id;
  }

  @FieldResolver(() => HistoryEventConnection, { description: AUDIT_TRAIL })
  auditTrail(@Root() saga: SagaView, @Args(() => HistoryPageArgs) page: HistoryPageArgs, @Ctx() ctx: RequestContext): Promise<HistoryPage> {
    return auditTrail(ctx, sagaProjection, saga, saga.id, page);
  }

  @Query(() => Saga, { nullable: true })
  saga(
    @Arg("id", () => ID) id: string,
    @Arg("waitFor", () => String, { nullable: true }) waitFor: string | null,
    @Arg("asOf", () => AsOfInput, { nullable: true, description: AS_OF }) asOf: AsOfInput | null,
    @Ctx() ctx: RequestContext,
  ): Promise<SagaView | null> {
    return readEntity(ctx, sagaProjection, "Saga", id, { waitFor, asOf });
  }

  @Query(() => SagaConnection, { description: "Saga instances, newest first; optionally only those with one status." })
  async sagas(
    @Arg("status", () => String, { nullable: true }) status: string | null,
    @Arg("first", () => Int, { defaultValue: 20 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Connection<SagaView>> {
    return connectionOf(await ctx.readModels.page<SagaView>(SAGAS, status ? `status:${status}` : "all", { first, after, descending: true }));
  }

  @Authorized(Scope.admin)
  @Mutation(() => CommandResult, { description: "Resumes a FAILED saga from the step that failed. Needs scope 'admin'." })
  async redriveSaga(
    @Arg("id", () => ID) id: string,
    @Arg("commandId", () => String, { nullable: true }) commandId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CommandResult> {
    const command = { type: "RedriveSaga", sagaStreamId: id, by: ctx.actor };
    const context = commandContext(ctx, commandId, command);
    return CommandResult.from(await ctx.commands.send(SAGA_SERVICE, command, context), context);
  }

  @FieldResolver(() => String, { description: "Log position of the last event this view reflects; sagaProgress resumes after it (`after`)." })
  position(@Root() saga: SagaView): string {
    return saga.position;
  }

  @Subscription(() => Saga, {
    description: "Progress of one saga instance, or of all when no id is given: one event per change of its status or step.",
    subscribe: ({ args, context }) =>
      follow(context, SAGAS, args.id == null ? SAGAS_TOPIC : `${SAGA_TOPIC}:${validSagaId("id", args.id)}`, args.after),
  })
  sagaProgress(
    @Arg("id", () => ID, { nullable: true, description: "A saga's id, e.g. saga.checkout-<orderId>." }) _id: string | null,
    @Arg("after", () => String, { nullable: true, description: AFTER }) _after: string | null,
    @Root() root: FeedItem,
  ): SagaView | null {
    return changeOf<SagaView>(root).document;
  }
}
