import { spawn } from "node:child_process";
import { resolve } from "node:path";
import {
  DefineProductDocument,
  ProductsDocument,
  ProjectionStatusDocument,
  RebuildProjectionDocument,
  RetryParkedEventDocument,
  SkipParkedEventDocument,
} from "./graphql/generated";
import { bearer, JWT_ENV, token } from "./support/auth";
import { execute, request } from "./support/graphqlClient";
import { eventually, startSystem, type RunningSystem } from "./support/system";

/**
 * Steering projections through the admin API and the CLI, against real
 * processes: status, a blue/green rebuild, parked-event commands, and access
 * control (admin allowed; query and command scopes refused).
 */
const MISSING_EVENT = "00000000-0000-4000-8000-000000000000";
let system: RunningSystem;
let admin: Record<string, string>;
let reader: Record<string, string>;
let clerk: Record<string, string>;

const codeOf = (response: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => response.errors?.[0]?.extensions?.code;
const products = async () => (await request(system.url, ProductsDocument, { first: 50, sort: undefined }, reader)).products;
const status = async (name: string) => (await request(system.url, ProjectionStatusDocument, { name }, admin)).projectionStatus[0]!;

async function keysOfGeneration(generation: number): Promise<number> {
  let cursor = "0";
  let n = 0;
  do {
    const [next, found] = await system.redis.scan(cursor, "MATCH", `${system.prefix}:{products}:${generation}:*`, "COUNT", 1000);
    cursor = next;
    n += found.length;
  } while (cursor !== "0");
  return n;
}

function cli(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [resolve(__dirname, "../dist/src/main.js"), ...args], {
    env: { ...process.env, ...system.env, NODE_ENV: "production", AUTH_MODE: "dev" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  return new Promise((done) => child.once("exit", (code) => done({ code, output })));
}

beforeAll(async () => {
  system = await startSystem(["api", "projector", "inventory"], JWT_ENV);
  admin = bearer(await token("ops", "admin"));
  reader = bearer(await token("reader", "query"));
  clerk = bearer(await token("clerk", "command:inventory"));
  for (let i = 0; i < 12; i++) {
    const sku = `TEA-${String(i).padStart(3, "0")}`;
    await request(system.url, DefineProductDocument, { input: { sku, name: `Tea ${i}`, priceMinor: 100 + i, currency: "EUR", initialStock: i } }, clerk);
  }
  await eventually(async () => (await products()).totalCount === 12, "the products to be projected");
}, 60_000);

afterAll(async () => {
  expect((await system.shutdown()).every((c) => c === 0)).toBe(true);
});

const ADMIN_OPERATIONS = [
  { name: "projectionStatus", run: (h: Record<string, string>) => execute(system.url, ProjectionStatusDocument, {}, h) },
  { name: "rebuildProjection", run: (h: Record<string, string>) => execute(system.url, RebuildProjectionDocument, { name: "products" }, h) },
  { name: "retryParkedEvent", run: (h: Record<string, string>) => execute(system.url, RetryParkedEventDocument, { projection: "products", eventId: MISSING_EVENT }, h) },
  { name: "skipParkedEvent", run: (h: Record<string, string>) => execute(system.url, SkipParkedEventDocument, { projection: "products", eventId: MISSING_EVENT }, h) },
];

describe.each(ADMIN_OPERATIONS)("$name needs admin", (op) => {
  it("is refused without a token, and with query or command scopes", async () => {
    const before = await system.redis.get(`${system.prefix}:{products}:active`);
    expect(codeOf(await op.run({}))).toBe("UNAUTHENTICATED");
    for (const headers of [reader, clerk]) {
      const response = await op.run(headers);
      expect(codeOf(response)).toBe("FORBIDDEN");
      expect(response.errors![0]!.message).toContain("'admin'");
    }
    expect(await system.redis.get(`${system.prefix}:{products}:active`)).toBe(before); // nothing was rebuilt
    expect(await system.redis.exists(`${system.prefix}:{products}:rebuild`)).toBe(0);
  });
});

it("shows every projection's status, with the head of the log published by the projector", async () => {
  const all = (await request(system.url, ProjectionStatusDocument, {}, admin)).projectionStatus;
  expect(all.map((s) => s.name)).toEqual(expect.arrayContaining(["products", "sagas"]));
  const caughtUp = await eventually(async () => {
    const s = await status("products");
    return s.head !== null && s.head === s.checkpoint && s.lagEvents === 0 ? s : null;
  }, "products' status to show it caught up");
  expect(caughtUp).toMatchObject({ activeGeneration: 1, lagMs: 0, parked: [], skipped: [], rebuild: null, lastError: null });
  expect(caughtUp.eventsPerSecond).toEqual(expect.any(Number));
  expect(codeOf(await execute(system.url, ProjectionStatusDocument, { name: "nope" }, admin))).toBe("NOT_FOUND");
});

it("rebuilds a projection through the API: a new generation takes over with the same content, the old keys are gone", async () => {
  const before = await products();
  const started = (await request(system.url, RebuildProjectionDocument, { name: "products" }, admin)).rebuildProjection;
  expect(started).toEqual({ projection: "products", generation: 2, fromGeneration: 1 });
  await eventually(async () => {
    const s = await status("products");
    return s.activeGeneration === 2 && s.rebuild === null;
  }, "generation 2 to become active");
  expect(await products()).toEqual(before);
  expect(await keysOfGeneration(1)).toBe(0);
  expect(await keysOfGeneration(2)).toBeGreaterThan(0);
  expect(codeOf(await execute(system.url, RebuildProjectionDocument, { name: "nope" }, admin))).toBe("NOT_FOUND");
});

it("a rebuild already running refuses a second one, from the API and the CLI alike", async () => {
  const lock = `${system.prefix}:{products}:rebuild`;
  await system.redis.set(lock, JSON.stringify({ token: "other", by: "someone" }), "PX", 60_000);
  try {
    expect(codeOf(await execute(system.url, RebuildProjectionDocument, { name: "products" }, admin))).toBe("REBUILD_IN_PROGRESS");
    const run = await cli(["rebuild", "products"]);
    expect(run.code).toBe(1);
    expect(run.output).toContain("REBUILD_IN_PROGRESS");
  } finally {
    await system.redis.del(lock);
  }
  expect((await status("products")).activeGeneration).toBe(2);
});

it("`eventline rebuild <projection>` rebuilds from the command line with progress while the system serves", async () => {
  const before = await products();
  const run = await cli(["rebuild", "products"]);
  expect(run.output).toMatch(/rebuilding products into generation 3; generation 2 serves meanwhile/);
  expect(run.output).toMatch(/products \[.*\] 100% \| \d+\/\d+ events/);
  expect(run.output).toMatch(/rebuilt products: generation 3 active after \d+ events; generation 2 removed/);
  expect(run.code).toBe(0);
  expect((await status("products")).activeGeneration).toBe(3);
  expect(await keysOfGeneration(2)).toBe(0);
  expect(await products()).toEqual(before);

  const unknown = await cli(["rebuild", "nope"]);
  expect(unknown.code).toBe(2);
  expect(unknown.output).toContain("projections: products");
});

it("retry and skip reach the projector and answer NOT_FOUND for an event that is not parked", async () => {
  const variables = { projection: "products", eventId: MISSING_EVENT };
  for (const response of [
    await execute(system.url, RetryParkedEventDocument, variables, admin),
    await execute(system.url, SkipParkedEventDocument, variables, admin),
  ]) {
    expect(codeOf(response)).toBe("NOT_FOUND");
    expect(response.errors![0]!.message).toContain(MISSING_EVENT);
  }
  expect(codeOf(await execute(system.url, RetryParkedEventDocument, { projection: "products", eventId: "not an id" }, admin))).toBe("VALIDATION");
});
