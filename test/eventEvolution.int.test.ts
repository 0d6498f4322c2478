import type { Redis } from "ioredis";
import { accountsProjection, type AccountView } from "../projections/payments/accounts/projection";
import { CommandHandler } from "../src/platform/aggregate/commandHandler";
import { eventRegistryOf } from "../src/platform/eventCatalog";
import { EventStore } from "../src/platform/eventstore/eventStore";
import { ReadModelKeys } from "../src/platform/projection/keys";
import { projectGeneration } from "../src/platform/projection/rebuild";
import { accountDecider, accountStreamId, type OpenedAccount } from "../src/services/payments/decider";
import { paymentsEventSchemas } from "../src/services/payments/events";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, waitForLogVisible, type TestDatabase } from "./support/testEnv";

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
