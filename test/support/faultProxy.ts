import { createServer, type Server, type Socket, connect } from "node:net";

/**
 * How new connections are treated while the proxy is blocked:
 * - `refuse`: accepted and closed at once, as a server that is down (clients fail fast);
 * - `hang`: accepted and never answered, as a network partition (clients wait for their own timeouts).
 */
export type BlockMode = "refuse" | "hang";

export interface FaultProxy {
  /** `host:port` the proxy listens on. */
  readonly host: string;
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's (for DATABASE_URL, REDIS_URL). */
  urlFor(url: string): string;
  /** Destroys every live connection, both sides; new ones still pass unless blocked. */
  cut(): void;
  /** New connections are refused or held (see BlockMode) until `restore`. */
  block(mode?: BlockMode): void;
  /**
   * Open connections stay open but carry nothing either way, as a frozen server:
   * clients see no error, only silence, and must rely on their own timeouts.
   */
  stall(): void;
  /** Lets traffic and new connections through again; held ones are closed (they never reached the target). */
  restore(): void;
  /** Connections currently forwarded. */
  liveConnections(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy that tests put between the system and PostgreSQL or Redis, to
 * take a dependency away without stopping the shared server: `cut()` kills
 * open connections, `block()` keeps new ones from getting through.
 */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const live = new Set<Socket>();
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let stalled = false;
  const held = new Set<Socket>();
  let blocked: BlockMode | null = null;

  const server: Server = createServer((client) => {
    client.on("error", () => undefined);
    if (blocked === "refuse") {
      client.destroy();
      return;
    }
    if (blocked === "hang") {
      held.add(client);
      client.on("close", () => held.delete(client));
      return;
    }
    const upstream = connect(target.port, target.host);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    for (const socket of [client, upstream]) {
      live.add(socket);
      socket.on("close", () => {
        live.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const pair = { client, upstream };
    pairs.add(pair);
    client.on("close", () => pairs.delete(pair));
    if (!stalled) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("fault proxy: no TCP address");
  const port = address.port;

  const cut = () => {
    for (const socket of [...live]) socket.destroy();
  };
  const releaseHeld = () => {
    for (const socket of [...held]) socket.destroy();
  };

  return {
    host: "127.0.0.1",
    port,
    urlFor(url) {
      const parsed = new URL(url);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(port);
      return parsed.toString();
    },
    cut,
    block(mode = "hang") {
      blocked = mode;
    },
    stall() {
      stalled = true;
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    restore() {
      blocked = null;
      releaseHeld();
      if (stalled) {
        stalled = false;
        for (const { client, upstream } of pairs) {
          client.pipe(upstream);
          upstream.pipe(client);
        }
      }
    },
    liveConnections: () => live.size / 2,
    async close() {
      blocked = "refuse";
      cut();
      releaseHeld();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Host and port of a `postgres://` or `redis://` URL, for `startFaultProxy`. */
export function targetOf(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || "127.0.0.1", port: parsed.port ? Number(parsed.port) : defaultPort };
}
