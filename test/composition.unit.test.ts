import { commandQueueName } from "../src/platform/bus/queueCommandBus";
import { reactorSubscriptionName } from "../src/platform/processing/reactorRunner";
import { compose, PLATFORM_ROLES, roleNames } from "../src/platform/runtime/composition";
import { SAGA_STARTER } from "../src/platform/saga/sagaRunner";
import { deployedRoles, services } from "../src/registry";

const { parts } = compose(services);
const part = (role: string) => parts.find((p) => p.role === role)!;

describe("the composition of the registered services", () => {
  it("deploys the platform's roles, then one per service; `all` runs them in one process", () => {
    expect(deployedRoles).toEqual([...PLATFORM_ROLES.filter((r) => r !== "all"), ...services.map((s) => s.name)]);
    expect(roleNames(services).sort()).toEqual([...PLATFORM_ROLES, ...services.map((s) => s.name)].sort());
    expect(new Set(parts.map((p) => p.role))).toEqual(new Set(deployedRoles));
  });

  it("starts the api last, so that it stops first", () => {
    expect(parts.at(-1)?.role).toBe("api");
    expect(parts[0]?.role).toBe("projector");
  });

  it("gives each service its command queue and its reactors' log subscriptions", () => {
    for (const service of services) {
      expect(part(service.name).queues).toEqual([commandQueueName(service.name)]);
      expect(part(service.name).subscriptions).toEqual((service.reactors ?? []).map((r) => ({ name: reactorSubscriptionName(service.name, r.name), eventTypes: r.eventTypes })));
    }
  });

  it("has appends wake every log processor a role runs, for the types it reads: the saga starter and each reactor", () => {
    const { reactors } = compose(services);
    expect(reactors).toEqual(parts.flatMap((p) => p.subscriptions));
    const sagaTriggers = [...new Set(services.flatMap((s) => s.sagas ?? []).flatMap((saga) => saga.triggerTypes))];
    expect(reactors).toContainEqual({ name: SAGA_STARTER, eventTypes: sagaTriggers });
    const reactions = services.flatMap((s) => s.reactors ?? []);
    expect(reactions.length).toBeGreaterThan(0);
    expect(reactors).toHaveLength(reactions.length + 1);
  });

  it("has the api report every queue any role takes work from, and every read model", () => {
    expect([...part("api").queues].sort()).toEqual(parts.filter((p) => p.role !== "api").flatMap((p) => p.queues).sort());
    expect(part("api").projections).toEqual(part("projector").projections);
  });

  it("runs the saga starter in the saga role, and nothing of the sagas' without sagas", () => {
    expect(part("saga").subscriptions.map((s) => s.name)).toEqual([SAGA_STARTER]);
    expect(compose(services).projections.map((p) => p.name)).toContain("sagas");
    const withoutSagas = compose(services.map((s) => ({ ...s, sagas: [] })));
    const saga = withoutSagas.parts.find((p) => p.role === "saga")!;
    expect({ queues: saga.queues, subscriptions: saga.subscriptions, graphql: saga.graphql }).toEqual({ queues: [], subscriptions: [], graphql: undefined });
    expect(withoutSagas.projections.map((p) => p.name)).not.toContain("sagas");
  });
});
