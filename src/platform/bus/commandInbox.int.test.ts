import { createTestDatabase, type TestDatabase } from "../../../test/support/testEnv";
import { CommandHandler } from "../aggregate/commandHandler";
import type { Decider } from "../aggregate/decider";
import { DomainError } from "../core/errors";
import { PgListener } from "./pgListener";
import type { DomainEvent } from "../eventstore/types";
import type { CommandExecutor } from "./commandBus";
import { CommandInbox } from "./commandInbox";
import { InboxCommandBus } from "./inboxCommandBus";
import { InboxWorker } from "./inboxWorker";
import { capturingLogger } from "../observability/logger";

/** A counter with a ceiling: one stream per counter, a refusal past the ceiling. */
type Add = { type: "Add"; counter: string; amount: number };
type Added = DomainEvent<"Added", { total: number }>;
const counter: Decider<Add, Added, number> = {
  initialState: 0,
  decide: (c, total) => {
    if (total + c.amount > 100) throw new DomainError("LIMIT", "would pass 100");
    return [{ type: "Added", data: { total: total + c.amount } }];
  },
  evolve: (_total, e) => e.data.total,
};

const SERVICE = "counters";
let db: TestDatabase;
let listener: PgListener;
let inbox: CommandInbox;
let execute: CommandExecutor;
let bus: InboxCommandBus;
const workers: InboxWorker[] = [];
const logs: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  listener = new PgListener(db.url, capturingLogger(logs));
  inbox = new CommandInbox(db.pool);
  const handler = new CommandHandler(db.store, counter);
  execute = (command, context) => {
    const add = command as Add;
    return handler.handle(`counter-${add.counter}`, add, context);
  };
  bus = new InboxCommandBus(inbox, listener, { timeoutMs: 20_000, pollMs: 500 });
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

afterAll(async () => {
  bus.close();
  await listener.stop();
  await db.drop();
});

const startWorker = () => {
  const worker = new InboxWorker(SERVICE, execute, inbox, listener, capturingLogger(logs));
  workers.push(worker);
  return worker;
};
const add = (name: string, amount: number) => ({ type: "Add", counter: name, amount });
const ctx = (commandId: string) => ({ commandId, actor: "test" });
const eventsOf = async (commandId: string) =>
  Number((await db.pool.query("SELECT count(*) FROM events WHERE metadata->>'commandId' = $1", [commandId])).rows[0].count);

it("runs a command in its owning service and returns its outcome; a resend returns the first result", async () => {
  startWorker();
  const first = await bus.send(SERVICE, add("a", 5), ctx("a-1"));
  expect(first).toMatchObject({ streamId: "counter-a", streamVersion: 1, eventTypes: ["Added"], duplicate: false });
  expect(first.position).not.toBeNull();
  const again = await bus.send(SERVICE, add("a", 5), ctx("a-1"));
  expect(again).toMatchObject({ duplicate: true, events: [], streamVersion: 1, position: first.position });
  expect(await eventsOf("a-1")).toBe(1);
});

it("answers a refusal as a typed error and keeps it as the command's answer", async () => {
  startWorker();
  await expect(bus.send(SERVICE, add("b", 500), ctx("b-1"))).rejects.toMatchObject({ code: "LIMIT" });
  await expect(bus.send(SERVICE, add("b", 500), ctx("b-1"))).rejects.toMatchObject({ code: "LIMIT" });
  expect(await eventsOf("b-1")).toBe(0);
});

it("a command whose worker died after taking it (even after appending) runs again once the lease ends, appending once", async () => {
  // A worker takes two commands with a short lease and dies: one before running it, one after its append.
  await inbox.put(SERVICE, add("c", 1), ctx("c-before"));
  await inbox.put(SERVICE, add("c", 2), ctx("c-after"));
  expect(await inbox.claim(SERVICE, 10, 300)).toHaveLength(2);
  await execute(add("c", 2), ctx("c-after"));
  // Nobody else may take them while the lease lasts.
  expect(await inbox.claim(SERVICE, 10, 300)).toHaveLength(0);

  startWorker();
  const [before, after] = await Promise.all([
    bus.sendRaw(SERVICE, add("c", 1), ctx("c-before"), 20_000),
    bus.sendRaw(SERVICE, add("c", 2), ctx("c-after"), 20_000),
  ]);
  expect(before).toMatchObject({ ok: true, outcome: { duplicate: false } });
  expect(after).toMatchObject({ ok: true, outcome: { duplicate: true } }); // its first run's append stands
  expect(await eventsOf("c-before")).toBe(1);
  expect(await eventsOf("c-after")).toBe(1);
  const attempts = await db.pool.query("SELECT command_id, attempts FROM command_inbox WHERE command_id LIKE 'c-%' ORDER BY command_id");
  expect(attempts.rows).toEqual([
    { command_id: "c-after", attempts: 2 },
    { command_id: "c-before", attempts: 2 },
  ]);
});

it("several workers share an inbox: every command runs exactly once", async () => {
  startWorker();
  startWorker();
  startWorker();
  const ids = Array.from({ length: 60 }, (_, i) => `d-${i}`);
  const outcomes = await Promise.all(ids.map((id, i) => bus.send(SERVICE, add(`d${i % 3}`, 1), ctx(id))));
  expect(outcomes.every((o) => !o.duplicate)).toBe(true);
  const { rows } = await db.pool.query(
    "SELECT metadata->>'commandId' AS id, count(*)::int AS n FROM events WHERE metadata->>'commandId' LIKE 'd-%' GROUP BY 1",
  );
  expect(rows).toHaveLength(60);
  expect(rows.every((r: { n: number }) => r.n === 1)).toBe(true);
  const totals = await Promise.all([0, 1, 2].map(async (k) => (await db.store.readStream(`counter-d${k}`)).length));
  expect(totals).toEqual([20, 20, 20]);
});

it("waits for a service that is not running and times out with COMMAND_TIMEOUT; the command runs when one starts", async () => {
  await expect(bus.sendRaw(SERVICE, add("e", 1), ctx("e-1"), 300)).rejects.toMatchObject({ code: "COMMAND_TIMEOUT" });
  expect(await eventsOf("e-1")).toBe(0);
  startWorker();
  const reply = await bus.sendRaw(SERVICE, add("e", 1), ctx("e-1"), 20_000);
  expect(reply).toMatchObject({ ok: true, outcome: { eventTypes: ["Added"] } });
  expect(await eventsOf("e-1")).toBe(1);
});
