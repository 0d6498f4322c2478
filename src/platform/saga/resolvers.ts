import { Arg, Args, Authorized, Ctx, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription } from "type-graphql";
import { Scope } from "../graphql/auth";
import { commandContext, type RequestContext } from "../graphql/context";
import { CommandResult, PageInfo } from "../graphql/types";
import type { ChangeNotification } from "../projection/types";
import { AS_OF, AUDIT_TRAIL, auditTrail, readEntity } from "../history/entityHistory";
import type { HistoryPage } from "../history/historyReader";
import { AsOfInput, HistoryEventConnection, HistoryPageArgs } from "../history/schemaTypes";
import { SAGA_TOPIC, sagaProjection, SAGAS, SAGAS_TOPIC, type SagaView } from "./sagaProjection";
import { SAGA_SERVICE } from "./sagaService";

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

@ObjectType({ description: "One saga instance: its current step, status, deadline, last error and step history." })
export class Saga {
  @Field(() => ID, { description: "The saga's stream id, e.g. saga.checkout-<orderId>." }) id!: string;
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

@ObjectType()
class SagaEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Saga) node!: Saga;
}

@ObjectType()
class SagaConnection {
  @Field(() => [SagaEdge]) edges!: SagaEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@Resolver(() => Saga)
@Authorized(Scope.query)
export class SagaResolvers {
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
  ): Promise<SagaConnection> {
    const page = await ctx.readModels.page<SagaView>(SAGAS, status ? `status:${status}` : "all", { first, after, descending: true });
    return { edges: page.nodes as unknown as SagaEdge[], pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
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

  @Subscription(() => Saga, {
    description: "Progress of one saga instance, or of all when no id is given.",
    subscribe: ({ args, context }) =>
      (context as RequestContext).subscribe(args.id ? `${SAGA_TOPIC}:${String(args.id)}` : SAGAS_TOPIC),
  })
  sagaProgress(
    @Arg("id", () => ID, { nullable: true }) _id: string | null,
    @Root() change: ChangeNotification<SagaView>,
  ): SagaView | null {
    return change.document;
  }
}
