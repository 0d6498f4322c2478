import { CommandHandler } from "../../src/platform/aggregate/commandHandler";
import type { ServiceDefinition } from "../../src/platform/runtime/service";
import { FIXTURE_SERVICE, parseFixtureCommand, tallyDecider, tallyStreamId } from "./decider";
import { fixtureEventSchemas } from "./events";
import { talliesProjection } from "./projection";
import { FixtureResolvers } from "./resolvers";

/**
 * The smallest service there is, for the test that registering one is all
 * it takes (fixtureService.int.test.ts). It never ships: it lives under test/.
 */
export const fixtureService: ServiceDefinition = {
  name: FIXTURE_SERVICE,
  events: fixtureEventSchemas,
  projections: [talliesProjection],
  resolvers: [FixtureResolvers],
  createExecutor({ store, handlerOptions }) {
    const handler = new CommandHandler(store, tallyDecider, handlerOptions);
    return (command, context) => {
      const c = parseFixtureCommand(command);
      return handler.handle(tallyStreamId(c.tallyId), c, context);
    };
  },
};
