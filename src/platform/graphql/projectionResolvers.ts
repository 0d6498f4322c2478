import { Arg, Authorized, Ctx, Field, Float, ID, Int, Mutation, ObjectType, Query, Resolver } from "type-graphql";
import { NotFoundError, ValidationError } from "../core/errors";
import { Scope } from "./auth";
import type { RequestContext } from "./context";
import { Node, type NodeDefinition } from "./node";
import type { AdminResult } from "../projection/admin";

@ObjectType({ description: "An event a projection kept failing on: set aside with its error so the projection could move on." })
class ParkedEvent {
  @Field(() => ID) eventId!: string;
  @Field(() => String, { description: "Log position of the event." }) position!: string;
  @Field(() => String) streamId!: string;
  @Field(() => Int) streamVersion!: number;
  @Field(() => String) type!: string;
  @Field(() => String, { description: "The projection's error on its last attempt." }) error!: string;
  @Field(() => Int) attempts!: number;
  @Field(() => String) parkedAt!: string;
}

@ObjectType({ description: "A parked event an operator skipped: dropped for good, recorded here." })
class SkippedEvent extends ParkedEvent {
  @Field(() => String) skippedBy!: string;
  @Field(() => String) skippedAt!: string;
}

@ObjectType({ description: "A blue/green rebuild in progress." })
class RebuildProgressView {
  @Field(() => Int, { description: "The generation being built." }) generation!: number;
  @Field(() => Int, { description: "The generation serving meanwhile." }) fromGeneration!: number;
  @Field(() => String, { description: "projecting, switching, cleaning or done" }) phase!: string;
  @Field(() => Int, { description: "Events projected into the new generation so far." }) applied!: number;
  @Field(() => Int, { description: "Events in the log when the rebuild started." }) total!: number;
  @Field(() => String) startedAt!: string;
  @Field(() => String) by!: string;
}

@ObjectType({
  description: "Where a projection stands. Head, lag, rate and last error are published by the projector after its batches and every catch-up tick.",
  implements: Node,
})
class ProjectionStatus {
  @Field(() => String, { description: "The projection's key, as `projectionStatus(name:)` and `rebuildProjection(name:)` take it." }) name!: string;
  @Field(() => Int) activeGeneration!: number;
  @Field(() => String, { description: "Log position the active generation has applied." }) checkpoint!: string;
  @Field(() => String, { nullable: true, description: "Last readable position of the log (PostgreSQL), as the projector last saw it." }) head!: string | null;
  @Field(() => Int, { nullable: true, description: "Events in the log after the checkpoint (counted up to 100,000)." }) lagEvents!: number | null;
  @Field(() => Float, { nullable: true, description: "Age in ms of the oldest event not yet applied; 0 when caught up." }) lagMs!: number | null;
  @Field(() => Float, { nullable: true, description: "Events applied per second over the last 10 s, by the projector that published." }) eventsPerSecond!: number | null;
  @Field(() => Float, {
    nullable: true,
    description: "Seconds the projector's log reader, a hot standby (DATABASE_READ_URL), was behind the primary when it published; null when it reads the primary.",
  })
  replicationLagSeconds!: number | null;
  @Field(() => String, { nullable: true }) lastError!: string | null;
  @Field(() => String, { nullable: true }) lastErrorAt!: string | null;
  @Field(() => String, { nullable: true, description: "When a projector last published this status." }) statusUpdatedAt!: string | null;
  @Field(() => [ParkedEvent]) parked!: ParkedEvent[];
  @Field(() => [SkippedEvent], { description: "The last 20 parked events skipped, newest first." }) skipped!: SkippedEvent[];
  @Field(() => RebuildProgressView, { nullable: true }) rebuild!: RebuildProgressView | null;
  @Field(() => String, { nullable: true, description: "The projector replica that owns the projection's lease and drives it, as it last published (null without leases)." }) owner!: string | null;
  @Field(() => Float, { nullable: true, description: "The owner's fencing token: it grows by one at each change of owner." }) leaseToken!: number | null;
}

@ObjectType()
class RebuildStarted {
  @Field(() => String) projection!: string;
  @Field(() => Int, { description: "The generation being built; it becomes active once caught up." }) generation!: number;
  @Field(() => Int, { description: "The generation that keeps serving until then." }) fromGeneration!: number;
}

@ObjectType()
class ParkedEventOutcome {
  @Field(() => String) projection!: string;
  @Field(() => ID) eventId!: string;
  @Field(() => Boolean, { description: "True when the event is no longer parked (applied, or skipped)." }) resolved!: boolean;
  @Field(() => String, { nullable: true, description: "The error of a retry that failed again." }) error!: string | null;
}

/**
 * Steering projections. All of it needs `admin`, status included: it carries
 * the projections' error messages and the events they failed on, which are
 * for operators, not for every client that may read the read models.
 */
@Resolver()
@Authorized(Scope.admin)
export class ProjectionResolvers {
  @Query(() => [ProjectionStatus], { description: "Status of every projection, or of one. Needs scope 'admin'." })
  async projectionStatus(@Arg("name", () => String, { nullable: true }) name: string | null, @Ctx() ctx: RequestContext): Promise<ProjectionStatus[]> {
    const names = name == null ? ctx.projections.names : [known(ctx, name)];
    return Promise.all(names.map((n) => ctx.projections.status(n)));
  }

  @Mutation(() => RebuildStarted, {
    description: "Rebuilds a projection from the log into a new generation while the current one serves, then switches. Needs scope 'admin'.",
  })
  async rebuildProjection(@Arg("name", () => String) name: string, @Ctx() ctx: RequestContext): Promise<RebuildStarted> {
    const result = await ctx.projections.send({ op: "rebuild", projection: known(ctx, name), by: ctx.actor });
    return expectOp(result, "rebuild");
  }

  @Mutation(() => ParkedEventOutcome, {
    description: "Applies a parked event again to the projection's current documents; unparks it if it succeeds. Needs scope 'admin'.",
  })
  async retryParkedEvent(
    @Arg("projection", () => String) projection: string,
    @Arg("eventId", () => ID) eventId: string,
    @Ctx() ctx: RequestContext,
  ): Promise<ParkedEventOutcome> {
    return expectOp(await ctx.projections.send({ op: "retry", projection: known(ctx, projection), eventId: checkedId(eventId), by: ctx.actor }), "retry");
  }

  @Mutation(() => ParkedEventOutcome, { description: "Drops a parked event for good (recorded with who skipped it). Needs scope 'admin'." })
  async skipParkedEvent(
    @Arg("projection", () => String) projection: string,
    @Arg("eventId", () => ID) eventId: string,
    @Ctx() ctx: RequestContext,
  ): Promise<ParkedEventOutcome> {
    return expectOp(await ctx.projections.send({ op: "skip", projection: known(ctx, projection), eventId: checkedId(eventId), by: ctx.actor }), "skip");
  }
}

/** `node(id: "ProjectionStatus:<name>")`: needs `admin`, like `projectionStatus`. */
export const projectionStatusNode: NodeDefinition<ProjectionStatus> = {
  typename: "ProjectionStatus",
  scopes: [Scope.admin],
  keyOf: (status) => status.name,
  load: async (ctx, name) => (ctx.projections.names.includes(name) ? ctx.projections.status(name) : null),
};

function known(ctx: RequestContext, name: string): string {
  if (!ctx.projections.names.includes(name)) {
    if (name.length > 100) throw new ValidationError("name", name, `one of ${ctx.projections.names.join(", ")}`);
    throw new NotFoundError("projection", name);
  }
  return name;
}

function checkedId(eventId: string): string {
  if (!/^[0-9a-fA-F-]{1,64}$/.test(eventId)) throw new ValidationError("eventId", eventId, "an event id (a UUID)");
  return eventId;
}

function expectOp<Op extends AdminResult["op"]>(result: AdminResult, op: Op): Extract<AdminResult, { op: Op }> {
  if (result.op !== op) throw new Error(`the projector answered '${result.op}' to '${op}'`);
  return result as Extract<AdminResult, { op: Op }>;
}
