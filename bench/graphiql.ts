import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { resolve } from "node:path";
import { spawnNode } from "./lib/child";
import { benchSystem } from "./lib/env";
import type { Scenario } from "./lib/scenario";
import { median, repeat } from "./lib/stats";

/**
 * GraphiQL and clients that never read the reply (the security finding: thirty
 * of them grew the api by 265 MB). Each slow client asks for the page and every
 * asset it names, as a browser would, then stops reading; the figure is the
 * server's growth in resident memory once they are all connected. Baseline:
 * the page as it was served before, 9 MB inlined and sent whole to each client
 * (bench/lib/inlineGraphiqlServer.ts).
 */
export const graphiqlScenario: Scenario = {
  name: "graphiql",
  summary: "server RSS growth (MB) for N GraphiQL clients that never read; baseline: the former inlined 9 MB page",
  flags: { clients: "slow clients (default 30; 5 in smoke)" },
  async run(ctx) {
    const clients = ctx.args.int("clients", { single: 30, suite: 30, smoke: 5 }, ctx.mode);
    ctx.progress("starting the api process and the baseline server");
    const system = await benchSystem(["api"], { GRAPHIQL_ENABLED: "true" });
    const inline = await spawnNode(resolve(__dirname, "lib/inlineGraphiqlServer.js"), {}, /listening on (http:\S+)/);
    try {
      const origin = new URL(system.url).origin;
      const pid = system.role("api").child.pid!;
      const apiRss = async () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
      const inlineRss = async () => Number(await (await fetch(`${inline.ready}/rss`)).text());
      const shell = await (await fetch(system.url, { headers: { accept: "text/html" } })).text();
      const assets = [...shell.matchAll(/(?:src|href)="(\/graphiql\/[^"]+)"/g)].map((m) => m[1]!);
      const workers = [...readAssetNames(await (await fetch(`${origin}${assets.find((a) => a.includes("monaco-environment"))!}`)).text())];
      const paths = [...assets, ...workers];
      // Warm-up: each encoding is made once per process, on first demand; that is not per-client cost.
      for (const path of paths) await (await fetch(`${origin}${path}`, { headers: { "accept-encoding": "br" } })).arrayBuffer();

      const grow = async (rss: () => Promise<number>, url: string, requests: string[]) => {
        await settle();
        const before = await rss();
        const sockets = requests.flatMap((path) => Array.from({ length: clients }, () => stalled(url, path)));
        await Promise.all(sockets.map((s) => s.sent));
        await settle();
        const after = await rss();
        sockets.forEach((s) => s.socket.destroy());
        return (after - before) / 2 ** 20;
      };
      const measured = await repeat(ctx.runs, async () => ({
        api: await grow(apiRss, origin, ["/graphql", ...paths]),
        baseline: await grow(inlineRss, inline.ready, ["/graphql"]),
      }));
      const growth = median(measured.map((m) => m.api));
      ctx.emit({
        label: `${clients} clients that never read`,
        // The api's growth is within its garbage collector's noise and can come out below zero; the
        // figure is floored at 0.1 MB (a ratio needs a positive value) and the measured one kept in params.
        value: Math.max(growth, 0.1),
        unit: "MB RSS growth",
        baseline: median(measured.map((m) => m.baseline)),
        params: { clients, assets: paths.length, measuredGrowthMB: Math.round(growth * 10) / 10 },
      });
    } finally {
      await inline.stop();
      await system.release();
    }
  },
};

function* readAssetNames(environment: string): Generator<string> {
  for (const m of environment.matchAll(/"(\/graphiql\/[^"]+)"/g)) yield m[1]!;
}

/** Garbage collection and socket buffers settle between measurements. */
const settle = () => new Promise((r) => setTimeout(r, 1500));

/** A client that sends one request, as a browser would, and never reads a byte of the reply. */
function stalled(base: string, path: string): { socket: Socket; sent: Promise<void> } {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  socket.on("error", () => undefined);
  const sent = new Promise<void>((resolveSent) => {
    socket.once("connect", () => {
      socket.pause();
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/html,*/*\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n`,
        () => resolveSent(),
      );
    });
  });
  return { socket, sent };
}
