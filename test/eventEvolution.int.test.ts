import type { Redis } from "ioredis";
import { z } from "zod";
import { accountsProjection, type AccountView } from "../projections/payments/accounts/projection";
import { CommandHandler } from "../src/platform/aggregate/commandHandler";
import { eventRegistryOf } from "../src/platform/runtime/eventCatalog";
import { ErrorCode } from "../src/platform/core/errors";
import { EventRegistry } from "../src/platform/eventstore/eventRegistry";
import { eventType } from "../src/platform/eventstore/eventSchemas";
import { EventStore } from "../src/platform/eventstore/eventStore";
import { ReadModelKeys } from "../src/platform/projection/keys";
import { projectGeneration } from "../src/platform/projection/rebuild";
import { accountDecider, accountStreamId, type OpenedAccount } from "../src/services/payments/decider";
import { paymentsEventSchemas } from "../src/services/payments/events";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, waitForLogVisible, type TestDatabase } from "./support/testEnv";

// Each part has its own database: the payments rebuild reads the whole log, which must hold only what its registry knows.
describe("the event store, with a toy context whose one event type grew a unit in v2", () => {
  const measuredV1 = z.object({ sku: z.string(), quantity: z.number().int() });
  const measuredV2 = measuredV1.extend({ unit: z.enum(["piece", "kg"]) });
  const v1Only = new EventRegistry([{ name: "shop", events: { Measured: eventType(measuredV1) } }]);
  const current = new EventRegistry([
    { name: "shop", events: { Measured: eventType(measuredV1).then(measuredV2, (v1) => ({ ...v1, unit: "piece" as const })) } },
  ]);
  const meta = { correlationId: "c", causationId: "c", actor: "test" };

  let db: TestDatabase;
  let store: EventStore;
  beforeAll(async () => {
    db = await createTestDatabase();
    store = new EventStore(db.pool, { registry: current });
  });
  afterAll(() => db.drop());

  const count = async (streamId: string) =>
    Number((await db.pool.query("SELECT count(*) FROM events WHERE stream_id = $1", [streamId])).rows[0].count);

  describe("validation on append", () => {
    it("stores a valid event at its type's current version", async () => {
      await store.append("valid", "no_stream", [{ type: "Measured", data: { sku: "A", quantity: 1, unit: "kg" }, metadata: meta }]);
      const { rows } = await db.pool.query("SELECT schema_version FROM events WHERE stream_id = 'valid'");
      expect(rows).toEqual([{ schema_version: 2 }]);
    });

    it("refuses an invalid event with a typed INVALID_EVENT and writes nothing of its batch", async () => {
      const batch = [
        { type: "Measured", data: { sku: "A", quantity: 1, unit: "kg" }, metadata: meta },
        { type: "Measured", data: { sku: "A", quantity: "two", unit: "kg" }, metadata: meta },
      ];
      await expect(store.append("invalid", "no_stream", batch, { commandId: "invalid-1" })).rejects.toMatchObject({
        code: ErrorCode.INVALID_EVENT,
        details: { type: "Measured", schemaVersion: 2, errors: ["/quantity must be integer"] },
      });
      expect(await count("invalid")).toBe(0);
      expect(await store.findCommandResult("invalid-1")).toBeNull();
    });

    it("refuses an unregistered type and an unknown version", async () => {
      await expect(store.append("unknown", "any", [{ type: "Guessed", data: {}, metadata: meta }])).rejects.toMatchObject({
        code: ErrorCode.INVALID_EVENT,
        message: expect.stringMatching(/not a registered event type/),
      });
      await expect(
        store.append("unknown", "any", [{ type: "Measured", schemaVersion: 3, data: { sku: "A", quantity: 1 }, metadata: meta }]),
      ).rejects.toMatchObject({ code: ErrorCode.INVALID_EVENT });
      expect(await count("unknown")).toBe(0);
    });

    it("a store without a registry stores whatever it is given, as before", async () => {
      await db.store.append("unchecked", "no_stream", [{ type: "Guessed", data: { anything: 1 }, metadata: meta }]);
      expect(await count("unchecked")).toBe(1);
    });
  });

  describe("upcasting on read", () => {
    beforeAll(async () => {
      // Written by the release that only knew v1.
      const old = new EventStore(db.pool, { registry: v1Only });
      await old.append("old", "no_stream", [
        { type: "Measured", data: { sku: "OLD", quantity: 3 }, metadata: meta },
        { type: "Measured", data: { sku: "OLD", quantity: 4 }, metadata: meta },
      ]);
      await store.append("old", 2, [{ type: "Measured", data: { sku: "OLD", quantity: 5, unit: "kg" }, metadata: meta }]);
      await waitForLogVisible(db);
    });

    it("stores old events as they were written", async () => {
      const { rows } = await db.pool.query("SELECT schema_version, data FROM events WHERE stream_id = 'old' ORDER BY stream_version");
      expect(rows.map((r) => [r.schema_version, r.data])).toEqual([
        [1, { sku: "OLD", quantity: 3 }],
        [1, { sku: "OLD", quantity: 4 }],
        [2, { sku: "OLD", quantity: 5, unit: "kg" }],
      ]);
    });

    const upcastStream = [
      { schemaVersion: 2, data: { sku: "OLD", quantity: 3, unit: "piece" } },
      { schemaVersion: 2, data: { sku: "OLD", quantity: 4, unit: "piece" } },
      { schemaVersion: 2, data: { sku: "OLD", quantity: 5, unit: "kg" } },
    ];

    it("readStream returns every event at the current version", async () => {
      expect((await store.readStream("old")).map(({ schemaVersion, data }) => ({ schemaVersion, data }))).toEqual(upcastStream);
    });

    it("readAll returns every event at the current version", async () => {
      const { events } = await store.readAll(undefined, 1000);
      const old = events.filter((e) => e.streamId === "old").map(({ schemaVersion, data }) => ({ schemaVersion, data }));
      expect(old).toEqual(upcastStream);
    });

    it("readStreamFromSnapshot upcasts the events after the snapshot too", async () => {
      const { snapshot, events } = await store.readStreamFromSnapshot("old", "none yet");
      expect(snapshot).toBeNull();
      expect(events.map(({ schemaVersion, data }) => ({ schemaVersion, data }))).toEqual(upcastStream);
    });
  });
});

describe("Payments across the upgrade that gave PaymentDeclined its shortfallMinor", () => {
  /**
   * PaymentDeclined is at v2 (it gained `shortfallMinor`). Here the release
   * before that writes v1 events, the code is upgraded, and the aggregate and a
   * read-model rebuild both work from the log as it was written.
   */
  const previousRelease = eventRegistryOf([
    {
      name: "payments",
      events: { ...paymentsEventSchemas, PaymentDeclined: { versions: paymentsEventSchemas.PaymentDeclined.versions.slice(0, 1), upcasters: [] } },
    },
  ]);
  const upgraded = eventRegistryOf([{ name: "payments", events: paymentsEventSchemas }]);

  const CUSTOMER = "ada";
  const stream = accountStreamId(CUSTOMER);
  const meta = { correlationId: "c", causationId: "c", actor: "previous-release" };
  const ctx = (commandId: string) => ({ commandId, actor: "test" });

  let db: TestDatabase;
  let redis: Redis;
  let keys: ReadModelKeys;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = testRedis();
    keys = new ReadModelKeys(testPrefix());
    const before = new EventStore(db.pool, { registry: previousRelease });
    await before.append(stream, "no_stream", [
      { type: "AccountOpened", data: { customerId: CUSTOMER, currency: "EUR", initialBalanceMinor: 1000 }, metadata: meta },
      { type: "PaymentDeclined", data: { customerId: CUSTOMER, orderId: "o-1", amountMinor: 5000, availableMinor: 1000 }, metadata: meta },
      { type: "PaymentAuthorized", data: { customerId: CUSTOMER, orderId: "o-2", amountMinor: 400 }, metadata: meta },
    ]);
    store = new EventStore(db.pool, { registry: upgraded });
  });

  afterAll(async () => {
    await deleteKeys(redis, keys.prefix);
    await redis.quit();
    await db.drop();
  });

  it("the previous release stored PaymentDeclined as v1, without shortfallMinor", async () => {
    const { rows } = await db.pool.query("SELECT schema_version, data FROM events WHERE type = 'PaymentDeclined'");
    expect(rows).toEqual([{ schema_version: 1, data: { customerId: CUSTOMER, orderId: "o-1", amountMinor: 5000, availableMinor: 1000 } }]);
  });

  it("the upgraded aggregate folds the v1 events and decides on them", async () => {
    const handler = new CommandHandler(store, accountDecider);
    const { state, version } = await handler.load(stream);
    expect(version).toBe(3);
    expect(state).toMatchObject({
      available: 600,
      held: 400,
      payments: { "o-1": { amountMinor: 5000, status: "DECLINED" }, "o-2": { amountMinor: 400, status: "AUTHORIZED" } },
    } satisfies Partial<OpenedAccount>);
    await expect(
      handler.handle(stream, { type: "AuthorizePayment", customerId: CUSTOMER, orderId: "o-1", amountMinor: 10 }, ctx("again-o-1")),
    ).rejects.toMatchObject({ code: "PAYMENT_EXISTS", details: { status: "DECLINED" } });
    const declined = await handler.handle(
      stream,
      { type: "AuthorizePayment", customerId: CUSTOMER, orderId: "o-3", amountMinor: 2600 },
      ctx("o-3"),
    );
    expect(declined.events).toEqual([
      { type: "PaymentDeclined", data: { customerId: CUSTOMER, orderId: "o-3", amountMinor: 2600, availableMinor: 600, shortfallMinor: 2000 } },
    ]);
    const { rows } = await db.pool.query("SELECT schema_version FROM events WHERE type = 'PaymentDeclined' ORDER BY stream_version");
    expect(rows.map((r) => r.schema_version)).toEqual([1, 2]);
  });

  it("a read model rebuilt from the log sees every decline at v2, the old one with its shortfall derived", async () => {
    await waitForLogVisible(db);
    const applied = await projectGeneration(redis, store, keys, accountsProjection, 1);
    expect(applied).toBe(4);
    const doc = JSON.parse((await redis.get(keys.generation(accountsProjection.name, 1).doc(CUSTOMER)))!) as AccountView;
    expect(doc).toMatchObject({ availableMinor: 600, heldMinor: 400, capturedMinor: 0, version: 4 });
    expect(doc.payments.map(({ orderId, status, amountMinor, shortfallMinor }) => ({ orderId, status, amountMinor, shortfallMinor }))).toEqual([
      { orderId: "o-3", status: "DECLINED", amountMinor: 2600, shortfallMinor: 2000 },
      { orderId: "o-2", status: "AUTHORIZED", amountMinor: 400, shortfallMinor: undefined },
      { orderId: "o-1", status: "DECLINED", amountMinor: 5000, shortfallMinor: 4000 },
    ]);
  });
});
