import { type ChildProcess, spawn } from "node:child_process";
import { NODE_FLAGS } from "../../src/platform/runtime/nodeFlags";
import { resolve, sep } from "node:path";

// This file runs from test/support under jest and from dist/test/support in benchmarks.
const ROOT = resolve(__dirname, __dirname.includes(`${sep}dist${sep}`) ? "../../.." : "../..");
const MAIN = resolve(ROOT, "dist/src/main.js");

export interface RoleProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves once a line matching `pattern` was printed (bounded). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM (graceful) or SIGKILL; resolves when the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `eventline <role>` from the compiled build as a real child process. */
export function spawnRole(role: string, env: Record<string, string>): RoleProcess {
  const child = spawn(process.execPath, [...NODE_FLAGS, MAIN, role], {
    // As in production: jest sets NODE_ENV=test, which changes how some libraries handle signals.
    // Production refuses to start without AUTH_JWT_SECRET unless AUTH_MODE=dev is explicit: tests
    // of access control pass AUTH_MODE=jwt and a secret, the others run without it.
    // The harness waits for info lines ("ready (role)", "GraphiQL at"): a LOG_LEVEL in the caller's shell must not hide them.
    // GraphiQL is off in production unless asked for; the harness asks, as it reads "GraphiQL at <url>" (tests of the rule pass GRAPHIQL_ENABLED: "").
    env: { ...process.env, NODE_ENV: "production", AUTH_MODE: "dev", GRAPHIQL_ENABLED: "true", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    listeners.forEach((l) => l());
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));

  return {
    child,
    output: () => output,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolvePromise, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            cleanup();
            resolvePromise(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern} from '${role}'. Output:\n${output}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`'${role}' exited while waiting for ${pattern}. Output:\n${output}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off("exit", onExit);
        };
        listeners.add(check);
        child.once("exit", onExit);
        check();
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
