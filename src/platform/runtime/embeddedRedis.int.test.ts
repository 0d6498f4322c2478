import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureDevInfra, InfraError } from "./devInfra";
import { findOnPath, startEmbeddedRedis } from "./embeddedRedis";
import { isAlive } from "./serverProcess";
import { createServer } from "node:net";

const asRoot = process.getuid?.() === 0;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const pidOf = (note: string) => Number(/\(pid (\d+)\)/.exec(note)?.[1]);

describe("embedded Redis", () => {
  let dataRoot = "";
  let port = 0;
  const binary = findOnPath("redis-server")!;
  const log: string[] = [];
  const options = () => ({ binary, dataRoot, port, runAs: null, log: (line: string) => log.push(line) });

  beforeAll(async () => {
    dataRoot = await mkdtemp(path.join(tmpdir(), "eventline-redis-"));
    port = await freePort();
  });
  afterAll(async () => {
    await rm(dataRoot, { recursive: true, force: true });
  });

  it("reuses a server whose owner runs, and stops by PID and restarts one a killed run left", async () => {
    const first = await startEmbeddedRedis(options());
    const pid = pidOf(first.note);
    expect(isAlive(pid)).toBe(true);
    expect(first.note).toContain(`data in ${dataRoot}/redis`);
    try {
      // Another live process owns it (here: jest's parent): reused as it is, and left running.
      await writeFile(path.join(dataRoot, "redis.owner"), `${process.ppid}\n`);
      const reused = await startEmbeddedRedis(options());
      expect(reused.note).toMatch(/reused/);
      await reused.stop();
      expect(isAlive(pid)).toBe(true);

      // Its owner is gone (a SIGKILLed start whose watchdog died too): stopped by PID, started again.
      await writeFile(path.join(dataRoot, "redis.owner"), "999999999\n");
      const restarted = await startEmbeddedRedis(options());
      expect(log.join("\n")).toContain(`Redis: stopping the server (pid ${pid}) a killed run left in ${dataRoot}/redis`);
      expect(isAlive(pid)).toBe(false);
      expect(await readFile(path.join(dataRoot, "redis.owner"), "utf8")).toBe(`${process.pid}\n`);
      await restarted.stop();
      expect(isAlive(pidOf(restarted.note))).toBe(false);
    } finally {
      await first.stop();
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  });

  it("a redis-server that fails is one line naming its words and the fix", async () => {
    const bin = await mkdtemp(path.join(tmpdir(), "eventline-fake-"));
    try {
      await chmod(bin, 0o755);
      await writeFile(path.join(bin, "redis-server"), "#!/bin/sh\necho 'FATAL: boom, cannot start' >&2\nexit 1\n", { mode: 0o755 });
      const savedPath = process.env["PATH"];
      process.env["PATH"] = `${bin}:${savedPath}`;
      const failing = ensureDevInfra({
        databaseUrl: "postgres://x@127.0.0.1:1/x", // not started: only Redis is under test
        redisUrl: undefined,
        dataDir: path.join(bin, "data"),
        cwd: bin,
        osUser: "nobody",
        pgPort: 1,
        redisPort: await freePort(),
        log: () => undefined,
      });
      const error = await failing.catch((e: Error) => e).finally(() => (process.env["PATH"] = savedPath));
      expect(error).toBeInstanceOf(InfraError);
      expect((error as Error).message).not.toContain("\n");
      expect((error as Error).message).toMatch(/^Could not start \S+redis-server with data in .*: redis-server exited during startup: FATAL: boom, cannot start\. Fix: .*set REDIS_URL=/);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });

  it("a port taken by something else is one line naming it and the fix, for PostgreSQL too", async () => {
    const open = await mkdtemp(path.join(tmpdir(), "eventline-open-"));
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", r));
    try {
      await chmod(open, 0o755);
      const taken = (squatter.address() as { port: number }).port;
      const error = await ensureDevInfra({ dataDir: open, cwd: open, osUser: "nobody", pgPort: taken, redisPort: port, log: () => undefined }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(InfraError);
      expect((error as Error).message).not.toContain("\n");
      expect((error as Error).message).toMatch(
        new RegExp(`^Could not start embedded PostgreSQL: port ${taken} is in use by another server \\(.+\\)\\. Fix: set EVENTLINE_PG_PORT to a free port, or set DATABASE_URL=`),
      );
    } finally {
      await new Promise((r) => squatter.close(r));
      await rm(open, { recursive: true, force: true });
    }
  });

  (asRoot ? it : it.skip)("as root, a data directory the OS user cannot reach is one line with the fix", async () => {
    const error = await ensureDevInfra({
      dataDir: path.join(dataRoot, "private"), // under a mkdtemp directory: mode 700, root's
      cwd: dataRoot,
      osUser: "nobody",
      pgPort: port,
      redisPort: port,
      log: () => undefined,
    }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toMatch(/^OS user 'nobody' cannot reach .*private \(a parent directory is private\)\. Fix: unset EVENTLINE_DATA_DIR/);
  });
});
