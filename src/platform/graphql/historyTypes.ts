import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { ArgsType, Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { Node } from "./node";
import { connectionType } from "./connection";

@ObjectType("EventMetadata", { description: "Who and what caused an event." })
export class EventMetadataView {
  @Field(() => ID, { description: "Shared by every event one request caused, across services; a mutation's is its commandId." })
  correlationId!: string;

  @Field(() => ID, { description: "The command, event or saga that directly caused this event." })
  causationId!: string;

  @Field(() => ID, { nullable: true, description: "The command that appended the event; null for a saga's own bookkeeping." })
  commandId!: string | null;

  @Field(() => String, { description: "Who acted: a token's subject, `saga:<name>` or `reactor:<service>:<name>`." })
  actor!: string;

  @Field(() => String, { description: "When the event was recorded (ISO 8601)." })
  recordedAt!: string;
}

@ObjectType({ description: "One event of the log, as recorded.", implements: Node })
export class HistoryEvent {
  @Field(() => ID, { description: "The event's key, unique in the log." })
  eventId!: string;

  @Field(() => String)
  streamId!: string;

  @Field(() => Int, { description: "Version of its stream this event created." })
  streamVersion!: number;

  @Field(() => String)
  type!: string;

  @Field(() => Int)
  schemaVersion!: number;

  @Field(() => JSONResolver, { description: "The event's payload." })
  data!: unknown;

  @Field(() => EventMetadataView)
  metadata!: EventMetadataView;

  @Field(() => String, { description: "Log position (commit order), comparable with mutation results." })
  position!: string;

  @Field(() => String, { description: "When the event was recorded (ISO 8601)." })
  recordedAt!: string;
}

export const HistoryEventConnection = connectionType("HistoryEvent", HistoryEvent, {
  description: "A page of events, oldest first.",
  totalCount: "Events across all pages.",
});

@ArgsType()
export class HistoryPageArgs {
  @Field(() => Int, { defaultValue: 20, description: "1-100 events." })
  first!: number;

  @Field(() => String, { nullable: true, description: "endCursor of the previous page." })
  after!: string | null;
}

@InputType({ description: "A point in an entity's past: set exactly one of `at` and `version`." })
export class AsOfInput {
  @Field(() => DateTimeResolver, { nullable: true, description: "The entity as it was at this moment." })
  at?: Date | null;

  @Field(() => Int, { nullable: true, description: "The entity after its n-th event (its stream version, for an entity of one stream)." })
  version?: number | null;
}
