import { z } from "zod";
import { createTestDatabase, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { ErrorCode } from "../errors";
import { EventRegistry } from "./eventRegistry";
import { eventType } from "./eventSchemas";
import { EventStore } from "./eventStore";

/** A toy context whose one event type grew a unit in v2. */
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
