import { createPubSub } from "@graphql-yoga/subscription";
import { commandQueueName } from "../src/platform/bus/queueCommandBus";
import { eventRegistryOf } from "../src/platform/runtime/eventCatalog";
import { buildGraphQLSchema } from "../src/platform/graphql/schema";
import { capturingLogger } from "../src/platform/observability/logger";
import { compose, processRoles, roleNames } from "../src/platform/runtime/composition";
import type { RunningApp } from "../src/platform/runtime/app";
import { services } from "../src/registry";
import { fixtureService } from "./fixtureService/service";
import { gql } from "./support/graphqlClient";
import { type InProcessApp, startInProcessApp } from "./support/inProcessApp";

/**
 * src/registry.ts says adding a service is one line there. This is that line,
 * for a small service under test/: everything below follows from it alone.
 */
const registered = [...services, fixtureService];

const FIXTURE_QUEUE = commandQueueName("fixture");
const partOf = (role: string) => compose(registered).parts.find((p) => p.role === role);

describe("registering a service is one line", () => {
  it("adds its role, deployed as a process of its own", () => {
    expect(roleNames(services)).not.toContain("fixture");
    expect(roleNames(registered)).toContain("fixture");
    expect(processRoles(registered)).toEqual([...processRoles(services), "fixture"]);
  });

  it("adds its command queue, reported by its own role and by the api", () => {
    expect(partOf("fixture")?.queues).toEqual([FIXTURE_QUEUE]);
    expect(partOf("api")?.queues).toContain(FIXTURE_QUEUE);
    expect(compose(services).parts.find((p) => p.role === "api")?.queues).not.toContain(FIXTURE_QUEUE);
  });

  it("adds its read model to the projector, and to the api's status and lag", () => {
    expect(compose(registered).projections.map((p) => p.name)).toContain("fixtureTallies");
    expect(partOf("projector")?.projections).toContain("fixtureTallies");
    expect(partOf("api")?.projections).toContain("fixtureTallies");
  });

  it("adds its events to the event registry", () => {
    expect(eventRegistryOf(services).currentVersion("TallyBumped")).toBeUndefined();
    expect(eventRegistryOf(registered).currentVersion("TallyBumped")).toBe(1);
  });

  it("adds its GraphQL types, query and mutation to the schema", async () => {
    const without = await buildGraphQLSchema(compose(services).resolvers, createPubSub());
    const withFixture = await buildGraphQLSchema(compose(registered).resolvers, createPubSub());
    expect(without.getType("FixtureTally")).toBeUndefined();
    expect(withFixture.getType("FixtureTally")).toBeDefined();
    expect(withFixture.getQueryType()?.getFields()).toHaveProperty("fixtureTally");
    expect(withFixture.getMutationType()?.getFields()).toHaveProperty("bumpFixtureTally");
  });
});

describe("a registered service runs", () => {
  let running: InProcessApp | undefined;
  let app: RunningApp;
  const lines: string[] = [];

  beforeAll(async () => {
    running = await startInProcessApp({ services: registered, roles: ["fixture", "projector", "api"], log: capturingLogger(lines) });
    app = running.app;
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
  });

  it("starts its role and projects its read model", () => {
    expect(lines).toContain("fixture: taking commands");
    expect(lines).toContainEqual(expect.stringMatching(/^projector: .*\bfixtureTallies\b/));
  });

  it("takes a command from its queue, and the api serves the read model it projects", async () => {
    const url = app.api!.url;
    const bumped = await gql(url, `mutation { bumpFixtureTally(tallyId: "t1", by: 3) { position streamId } }`);
    expect(bumped.errors).toBeUndefined();
    const { position, streamId } = (bumped.data as { bumpFixtureTally: { position: string; streamId: string } }).bumpFixtureTally;
    expect(streamId).toBe("tally-t1");
    const read = await gql(url, `query ($p: String) { fixtureTally(tallyId: "t1", waitFor: $p) { tallyId total } }`, { p: position });
    expect(read).toEqual({ data: { fixtureTally: { tallyId: "t1", total: 3 } } });
  });

  it("reports its queue's depth with the others'", async () => {
    const metrics = await (await fetch(`${app.telemetryUrl!}/metrics`)).text();
    expect(metrics).toContain(`queue="${FIXTURE_QUEUE}"`);
  });
});
