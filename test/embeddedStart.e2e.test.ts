import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { ROOT_DATA_BASE, projectKey } from "../src/platform/runtime/embeddedPlan";
import { isAlive } from "../src/platform/runtime/serverProcess";
import { DefineProductDocument, OpenAccountDocument, OrderDocument, PlaceOrderDocument, ProductDocument } from "./graphql/generated";
import { request } from "./support/graphqlClient";
import { npmStart, privateClone, type NpmStart } from "./support/privateClone";

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;
// A throwaway OS user that does not exist yet: the start must create it, as on a machine without PostgreSQL.
const OS_USER = `evl${randomBytes(3).toString("hex")}`;
const STARTUP_MS = 180_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** The PIDs a start printed: its node process and the servers it started. */
function pids(output: string): number[] {
  const found = [...output.matchAll(/"pid":(\d+)|\(pid (\d+)\)/g)].map((m) => Number(m[1] ?? m[2]));
  return [...new Set(found)];
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${check.toString()}`);
  }
}

(asRoot ? describe : describe.skip)("npm start as root, from a private directory, with no database user", () => {
  let project = "";
  let dataRoot = "";
  let binariesExisted = true;
  const starts: NpmStart[] = [];
  const env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    project = await privateClone();
    dataRoot = join(ROOT_DATA_BASE, projectKey(project));
    binariesExisted = existsSync(ROOT_DATA_BASE) && statSync(ROOT_DATA_BASE).isDirectory();
    const { DATABASE_URL: _d, REDIS_URL: _r, NODE_ENV: _n, EVENTLINE_DATA_DIR: _e, AUTH_JWT_SECRET: _s, AUTH_MODE: _m, ...rest } = process.env;
    Object.assign(env, rest, {
      PORT: "0",
      LOG_LEVEL: "info",
      EVENTLINE_OS_USER: OS_USER,
      EVENTLINE_PG_PORT: String(await freePort()),
      EVENTLINE_REDIS_PORT: String(await freePort()),
    });
  }, 60_000);

  afterAll(async () => {
    for (const start of starts) {
      if (start.child.exitCode === null && start.child.signalCode === null) process.kill(-start.child.pid!, "SIGKILL");
      for (const pid of pids(start.output())) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
    await rm(project, { recursive: true, force: true });
    await rm(dataRoot, { recursive: true, force: true });
    await run("userdel", [OS_USER]).catch(() => undefined);
    if (!binariesExisted) await rm(ROOT_DATA_BASE, { recursive: true, force: true });
  }, 60_000);

  const start = async (): Promise<{ url: string; started: NpmStart }> => {
    const started = npmStart(project, env);
    starts.push(started);
    const [, url] = await started.waitFor(/GraphiQL at (\S+)/, STARTUP_MS);
    const ready = url!.replace(/\/graphql$/, "/ready");
    await until(async () => (await fetch(ready).catch(() => null))?.status === 200, 60_000);
    return { url: url!, started };
  };

  /** Ctrl-C as a terminal sends it: SIGINT to every process of the foreground group. */
  const ctrlC = async (started: NpmStart): Promise<{ code: number | null; ms: number }> => {
    const since = Date.now();
    process.kill(-started.child.pid!, "SIGINT");
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([started.exited, new Promise<"hung">((r) => (timer = setTimeout(() => r("hung"), 30_000)))]);
    clearTimeout(timer);
    if (code === "hung") throw new Error(`npm start did not exit within 30 s of Ctrl-C:\n${started.output().slice(-3000)}`);
    return { code, ms: Date.now() - since };
  };

  const define = (url: string, sku: string) =>
    request(url, DefineProductDocument, { input: { sku, name: `Tea ${sku}`, priceMinor: 1250, currency: "EUR", initialStock: 5 } });

  it("starts, serves, prints its URLs, and stops cleanly on Ctrl-C with nothing lost", async () => {
    const { url, started } = await start();
    const out = started.output();
    expect(out).toContain(`created system user '${OS_USER}'`);
    expect(out).toContain(`data in ${dataRoot}/postgres`);
    const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${env["EVENTLINE_PG_PORT"]}/eventline`;
    expect(out).toContain(databaseUrl); // unmasked: a fixed local password

    const first = await define(url, "TEA-A");
    const { product } = await request(url, ProductDocument, { id: "TEA-A", waitFor: first.defineProduct.position });
    expect(product).toMatchObject({ sku: "TEA-A", available: 5 });

    // `eventline env` prints what a second role needs; the URL it prints works.
    const { stdout } = await run(process.execPath, ["dist/src/main.js", "env"], { cwd: project, env });
    expect(stdout).toContain(`export DATABASE_URL=${databaseUrl}\n`);
    expect(stdout).toContain(`export REDIS_URL=redis://127.0.0.1:${env["EVENTLINE_REDIS_PORT"]}`);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.end();

    // Commands are answered, then Ctrl-C comes at once: their events must survive the stop, and
    // the checkout the order started must finish after the restart (not time out).
    await request(url, OpenAccountDocument, { customerId: "ann", currency: "EUR", initialBalanceMinor: 100_000 });
    await define(url, "TEA-B");
    await request(url, PlaceOrderDocument, { input: { orderId: "order-ctrl-c", customerId: "ann", lines: [{ sku: "TEA-A", quantity: 2 }] } });
    const { code, ms } = await ctrlC(started);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(15_000);
    process.stdout.write(`Ctrl-C to exit 0: ${ms} ms\n`);
    expect(started.output()).not.toMatch(/ECONNREFUSED/);
    expect(started.output()).toContain('"msg":"stopped"');
    await until(() => pids(started.output()).every((pid) => !isAlive(pid)), 10_000);

    // A second start reuses the data and the user; the last product is there.
    const again = await start();
    expect(again.started.output()).not.toMatch(/initialising a new cluster|created system user/);
    const second = await request(again.url, ProductDocument, { id: "TEA-B" });
    expect(second.product).toMatchObject({ sku: "TEA-B", available: 5 });
    let status = "PENDING";
    await until(async () => {
      status = (await request(again.url, OrderDocument, { id: "order-ctrl-c" })).order?.status ?? "PENDING";
      return status !== "PENDING";
    }, 30_000);
    expect(status).toBe("CONFIRMED");

    // SIGKILL of the app: the watchdogs stop both servers, which would otherwise run on forever.
    const [node] = pids(again.started.output());
    process.kill(node!, "SIGKILL");
    await until(() => pids(again.started.output()).every((pid) => !isAlive(pid)), 20_000);
    await again.started.exited;
  }, 420_000);
});
