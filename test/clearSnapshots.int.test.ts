import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { createTestDatabase, type TestDatabase } from "./support/testEnv";

const MAIN = resolve(__dirname, "../dist/src/main.js");

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

function clearSnapshots(): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, [MAIN, "clear-snapshots"], { env: { ...process.env, DATABASE_URL: db.url }, timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolvePromise(stdout),
    );
  });
}

it("`eventline clear-snapshots` (README) deletes every snapshot and says how many", async () => {
  await db.store.snapshots.save("a", 3, "x@1", { n: 3 });
  await db.store.snapshots.save("b", 5, "x@1", { n: 5 });
  expect(await clearSnapshots()).toMatch(/^deleted 2 snapshots; loads fold from the log/);
  expect((await db.pool.query("SELECT count(*)::int AS n FROM snapshots")).rows[0].n).toBe(0);
});
