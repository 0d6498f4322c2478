import { createTestDatabase, type TestDatabase } from "../../../test/support/testEnv";
import { unfinishedSagas } from "./sagaSweep";

const meta = { correlationId: "c", causationId: "c", actor: "test" };
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(() => db.drop());

it("finds the saga instances whose last event neither finished nor failed them, and nothing outside saga streams", async () => {
  const event = (type: string) => ({ type, data: {}, metadata: meta });
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
