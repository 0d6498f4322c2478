import { Arg, Args, Authorized, Ctx, ID, Query, Resolver } from "type-graphql";
import { Scope } from "./auth";
import { readAfter, type RequestContext } from "./context";
import type { NodeDefinition } from "./node";
import { HISTORY, type HistoryRecord } from "../projection/historyProjection";
import { correlationTrail, type HistoryPage } from "../projection/historyReader";
import { HistoryEventConnection, HistoryPageArgs } from "./historyTypes";

@Resolver()
@Authorized(Scope.query)
export class HistoryQueries {
  @Query(() => HistoryEventConnection, {
    description: "Everything one request caused, across streams and services, in commit order. A mutation's correlation id is its commandId.",
  })
  async correlation(
    @Arg("id", () => ID) id: string,
    @Args(() => HistoryPageArgs) page: HistoryPageArgs,
    @Arg("waitFor", () => String, { nullable: true, description: "Log position: answer only once the history includes it." })
    waitFor: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<HistoryPage> {
    await readAfter(ctx, HISTORY, waitFor);
    return correlationTrail(ctx.readModels, id, page);
  }
}

/** `node(id: "HistoryEvent:<eventId>")`: one event of the log, as audit trails list it. */
export const historyEventNode: NodeDefinition<HistoryRecord> = {
  typename: "HistoryEvent",
  scopes: [Scope.query],
  keyOf: (event) => event.eventId,
  load: async (ctx, eventId) => {
    await readAfter(ctx, HISTORY, null);
    return ctx.readModels.get<HistoryRecord>(HISTORY, eventId);
  },
};
