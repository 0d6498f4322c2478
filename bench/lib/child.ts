import { spawn } from "node:child_process";

export interface NodeChild {
  /** First capture group of `ready` in the child's output. */
  ready: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `node script`, resolves once it prints a line matching `ready` (bounded), with its first capture group. */
export function spawnNode(script: string, env: Record<string, string>, ready: RegExp, timeoutMs = 20_000): Promise<NodeChild> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not start within ${timeoutMs} ms. Output:\n${output}`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(ready);
      if (!match) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      resolve({
        ready: match[1] ?? match[0],
        pid: child.pid!,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          await exited;
        },
      });
    };
    const onExit = () => fail(new Error(`${script} exited before it was ready. Output:\n${output}`));
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", onExit);
  });
}
