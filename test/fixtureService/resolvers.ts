import { Arg, Authorized, Ctx, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from "type-graphql";
import { Scope } from "../../src/platform/graphql/auth";
import { commandContext, type RequestContext } from "../../src/platform/graphql/context";
import { CommandResult } from "../../src/platform/graphql/types";
import { readEntity } from "../../src/platform/graphql/entityHistory";
import { FIXTURE_SERVICE, parseFixtureCommand } from "./decider";
import { talliesProjection, type TallyView } from "./projection";

@ObjectType("FixtureTally", { description: "A counter of the fixture service (tests only)." })
export class FixtureTally {
  @Field(() => ID)
  tallyId!: string;

  @Field(() => Int)
  total!: number;
}

@Resolver()
export class FixtureResolvers {
  @Authorized(Scope.query)
  @Query(() => FixtureTally, { nullable: true })
  fixtureTally(
    @Arg("tallyId", () => ID) tallyId: string,
    @Arg("waitFor", () => String, { nullable: true }) waitFor: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<TallyView | null> {
    return readEntity(ctx, talliesProjection, "FixtureTally", tallyId, { waitFor });
  }

  @Authorized(Scope.command(FIXTURE_SERVICE))
  @Mutation(() => CommandResult)
  async bumpFixtureTally(@Arg("tallyId", () => ID) tallyId: string, @Arg("by", () => Int) by: number, @Ctx() ctx: RequestContext): Promise<CommandResult> {
    const command = parseFixtureCommand({ type: "BumpTally", tallyId, by });
    const context = commandContext(ctx, null, command);
    return CommandResult.from(await ctx.commands.send(FIXTURE_SERVICE, command, context), context);
  }
}
