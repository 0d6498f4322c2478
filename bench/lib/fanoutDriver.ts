import { fork, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import type { FanoutCommand, RunStats } from "./fanoutClients";

/** The fanout clients' process (bench/lib/fanoutClients.ts), one command at a time over IPC. */
export class FanoutClients {
  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  static start(): FanoutClients {
    const child = fork(resolve(__dirname, "fanoutClients.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    return new FanoutClients(child, exited);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  open(url: string, n: number, kind: "graphql" | "bare", query = ""): Promise<number> {
    return this.ask({ cmd: "open", url, n, kind, query }).then(Number);
  }

  warm(redisUrl: string, channel: string, timeoutMs = 60_000): Promise<number> {
    return this.ask({ cmd: "warm", redisUrl, channel, timeoutMs }).then(Number);
  }

  async run(redisUrl: string, channel: string, rate: number, seconds: number, drainMs: number): Promise<RunStats> {
    return (await this.ask({ cmd: "run", redisUrl, channel, rate, seconds, drainMs })) as RunStats;
  }

  async closeSockets(): Promise<void> {
    await this.ask({ cmd: "close" });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }

  private ask(command: FanoutCommand): Promise<unknown> {
    return new Promise((resolvePromise, reject) => {
      const onExit = () => reject(new Error(`the fanout clients' process exited during '${command.cmd}'`));
      this.child.once("exit", onExit);
      this.child.once("message", (reply: { ok: boolean; value?: unknown; error?: string }) => {
        this.child.off("exit", onExit);
        if (reply.ok) resolvePromise(reply.value);
        else reject(new Error(`fanout clients: ${command.cmd} failed: ${reply.error}`));
      });
      this.child.send(command);
    });
  }
}
