import { Field, ID, Int, ObjectType } from "type-graphql";
import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import { positionToken } from "./context";

@ObjectType({ description: "What a command did. Pass `position` as `waitFor` to a query to read your own write." })
export class CommandResult {
  @Field(() => ID)
  commandId!: string;

  @Field(() => String)
  streamId!: string;

  @Field(() => Int, { description: "Version of the stream after the command." })
  streamVersion!: number;

  @Field(() => String, { nullable: true, description: "Log position of the last event written; null when nothing changed." })
  position!: string | null;

  @Field(() => Boolean, { description: "True when this commandId had already been applied; nothing was appended." })
  duplicate!: boolean;

  @Field(() => [String], { description: "Types of the events this call appended." })
  events!: string[];

  /** `context`: the one the mutation sent, so the reply shows the client's own commandId, not the scoped key. */
  static from(outcome: CommandOutcome, context: CommandContext): CommandResult {
    return Object.assign(new CommandResult(), {
      commandId: context.clientCommandId ?? outcome.commandId,
      streamId: outcome.streamId,
      streamVersion: outcome.streamVersion,
      position: positionToken(outcome),
      duplicate: outcome.duplicate,
      events: outcome.events.map((e) => e.type),
    });
  }
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}
