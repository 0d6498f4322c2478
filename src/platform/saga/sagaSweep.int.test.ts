import { ConcurrencyError } from "../core/errors";
import { migrate } from "../eventstore/migrations";
import { createTestDatabase, type TestDatabase } from "../../../test/support/testEnv";
import { unfinishedSagas } from "./sagaSweep";

const meta = { correlationId: "c", causationId: "c", actor: "test" };
const event = (type: string) => ({ type, data: {}, metadata: meta });
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(() => db.drop());

const streams = async () => (await unfinishedSagas(db.pool)).map((s) => s.stream);

it("finds the saga instances whose last event neither finished nor failed them, and nothing outside saga streams", async () => {
  await db.store.append("saga.checkout-running", "no_stream", [event("SagaStarted"), event("SagaStepStarted")]);
  await db.store.append("saga.checkout-done", "no_stream", [event("SagaStarted"), event("SagaFinished")]);
  await db.store.append("saga.refund-failed", "no_stream", [event("SagaStarted"), event("SagaFailed")]);
  await db.store.append("saga.refund-redriven", "no_stream", [event("SagaStarted"), event("SagaFailed"), event("SagaRedriven")]);
  await db.store.append("order-1", "no_stream", [event("SagaStarted")]);
  expect(await unfinishedSagas(db.pool)).toEqual([
    { stream: "saga.checkout-running", saga: "checkout" },
    { stream: "saga.refund-redriven", saga: "refund" },
  ]);
});

it("follows an instance through its appends: open when started, gone when it ends, open again when redriven", async () => {
  const stream = "saga.pay-lifecycle";
  await db.store.append(stream, "no_stream", [event("SagaStarted"), event("SagaStepStarted")]);
  expect(await streams()).toContain(stream);
  // The last step's reply and the end, as the runner records them: one append.
  await db.store.append(stream, 2, [event("SagaStepFailed"), event("SagaFailed")]);
  expect(await streams()).not.toContain(stream);
  await db.store.append(stream, 4, [event("SagaRedriven")]);
  expect(await streams()).toContain(stream);
  await db.store.append(stream, 5, [event("SagaStepStarted")]);
  await db.store.append(stream, 6, [event("SagaStepSucceeded"), event("SagaFinished")]);
  expect(await streams()).not.toContain(stream);
});

it("an append that loses its version race changes nothing: the instance stays open", async () => {
  const stream = "saga.pay-raced";
  await db.store.append(stream, "no_stream", [event("SagaStarted")]);
  await expect(db.store.append(stream, "no_stream", [event("SagaFinished")])).rejects.toBeInstanceOf(ConcurrencyError);
  expect(await streams()).toContain(stream);
});

it("migration 8 finds the instances a log written before it left open", async () => {
  // Back to the schema before migration 8, with saga events appended while nothing kept the table.
  await db.pool.query(`DROP TRIGGER events_track_open_sagas ON events; DROP FUNCTION track_open_sagas(); DROP TABLE open_sagas;
    DELETE FROM schema_migrations WHERE version = 8`);
  await db.store.append("saga.old-open", "no_stream", [event("SagaStarted"), event("SagaStepStarted")]);
  await db.store.append("saga.old-done", "no_stream", [event("SagaStarted"), event("SagaFinished")]);
  await db.store.append("saga.old-redriven", "no_stream", [event("SagaStarted"), event("SagaFailed"), event("SagaRedriven"), event("SagaStepStarted")]);
  expect(await migrate(db.pool)).toEqual([8]);
  expect(await streams()).toEqual(["saga.checkout-running", "saga.old-open", "saga.old-redriven", "saga.pay-raced", "saga.refund-redriven"]);
  // And the appends keep it from then on.
  await db.store.append("saga.old-open", 2, [event("SagaFinished")]);
  expect(await streams()).not.toContain("saga.old-open");
});
