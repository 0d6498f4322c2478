import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { Socket } from "node:net";

/** A local server (postgres, redis-server) this process started or took over. */
export interface ServerProcess {
  pid: number;
  exited(): boolean;
  /** Stops it (graceful signal, then the hard one after `stopTimeoutMs`); resolves once it is gone. */
  stop(): Promise<void>;
}

export interface ServerSpec {
  command: string;
  args: string[];
  /** stdout and stderr go here (truncated at each start): the server must not depend on our pipes. */
  logFile: string;
  runAs?: { uid: number; gid: number } | undefined;
  env?: NodeJS.ProcessEnv;
  /** graceful stop (postgres: SIGINT = fast shutdown; redis: SIGTERM = save and exit) */
  stopSignal: NodeJS.Signals;
  /** sent when the graceful stop takes longer than stopTimeoutMs */
  hardSignal: NodeJS.Signals;
  stopTimeoutMs: number;
}

/**
 * Starts a server in its own session and process group (setsid), so that a
 * terminal's Ctrl-C, which reaches the whole foreground group, leaves it
 * running until the app has drained and stops it itself. Two guards keep it
 * from outliving us: an 'exit' hook (crashes, process.exit) and a detached
 * watchdog shell that reads a pipe from us and stops the server on EOF, which
 * the kernel delivers however we die, SIGKILL included.
 */
export async function spawnServer(spec: ServerSpec): Promise<ServerProcess> {
  const log = openSync(spec.logFile, "w");
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ["ignore", log, log],
      env: spec.env ?? process.env,
      ...(spec.runAs ?? {}),
    });
    // 'spawn' or 'error' (EACCES, ENOENT) comes first: an unheard 'error' would crash the process.
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    const who = spec.runAs ? ` as uid ${spec.runAs.uid}` : "";
    throw new Error(`cannot run ${spec.command}${who}: ${code || (error as Error).message}`);
  } finally {
    closeSync(log);
  }
  child.on("error", () => undefined);
  child.unref();
  const pid = child.pid!;
  const watchdog = startWatchdog(pid, spec.stopSignal);
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const killOnExit = (): void => {
    try {
      if (!exited()) process.kill(pid, spec.stopSignal);
    } catch {
      // already gone
    }
  };
  process.once("exit", killOnExit);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.removeListener("exit", killOnExit);
      // First the watchdog: it must not signal a PID the system may reuse once the server is gone.
      watchdog.kill("SIGKILL");
      if (exited()) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      await signalAndWait(pid, spec, gone);
    })());
  return { pid, exited, stop };
}

/** Stops a server we did not start (left by a killed run), by its PID. */
export async function stopByPid(pid: number, spec: Pick<ServerSpec, "stopSignal" | "hardSignal" | "stopTimeoutMs">): Promise<void> {
  await signalAndWait(pid, spec, waitGone(pid));
}

async function signalAndWait(pid: number, spec: Pick<ServerSpec, "stopSignal" | "hardSignal" | "stopTimeoutMs">, gone: Promise<void>): Promise<void> {
  if (!send(pid, spec.stopSignal)) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), spec.stopTimeoutMs)));
  if ((await Promise.race([gone, late])) === "late") {
    send(pid, spec.hardSignal);
    await gone;
  }
  clearTimeout(timer);
}

function send(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Polls until `pid` is gone; a stale server is no child of ours, so no 'exit' event. */
async function waitGone(pid: number): Promise<void> {
  while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 100));
}

/**
 * `sh` blocks reading a pipe whose only writer is this process. When we die
 * in any way the pipe reaches EOF and the shell signals the server. Detached,
 * so Ctrl-C does not kill it; unreferenced, so it never keeps us alive.
 */
function startWatchdog(pid: number, signal: NodeJS.Signals): ChildProcess {
  const script = 'read -r _ ; kill -s "$1" "$2" 2>/dev/null';
  const watchdog = spawn("sh", ["-c", script, "eventline-watchdog", signal.replace(/^SIG/, ""), String(pid)], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  watchdog.on("error", () => undefined);
  watchdog.unref();
  if (watchdog.stdin instanceof Socket) watchdog.stdin.unref();
  watchdog.stdin?.on("error", () => undefined);
  return watchdog;
}

/**
 * Who runs the server in a data directory: our PID in `<name>.owner`. A
 * server whose owner is gone was left by a killed run; one whose owner lives
 * belongs to another start and is reused as it is.
 */
export async function writeOwner(file: string): Promise<void> {
  await writeFile(file, `${process.pid}\n`);
}

export async function ownerAlive(file: string): Promise<boolean> {
  const pid = Number.parseInt(await readFile(file, "utf8").catch(() => ""), 10);
  return pid !== process.pid && isAlive(pid);
}

/** Last lines of a server's log, joined into one line for an error message. */
export async function logTail(file: string, lines = 6): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").map((l) => l.trim()).filter(Boolean).slice(-lines).join(" | ");
}
