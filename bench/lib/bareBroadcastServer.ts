import { WebSocketServer, type WebSocket } from "ws";
import { createRedis } from "../../src/platform/core/redis";

/**
 * The fanout benchmark's baseline: a bare `ws` server that forwards every
 * message of one Redis pub/sub channel, as it is, to every connected socket,
 * with no GraphQL, feeds or protocol in between. Like the api, it drops a
 * client once more than MAX_BUFFERED_BYTES are queued for it.
 *
 *   REDIS_URL=... CHANNEL=... MAX_BUFFERED_BYTES=... node dist/bench/lib/bareBroadcastServer.js
 */
async function main() {
  const redisUrl = process.env.REDIS_URL;
  const channel = process.env.CHANNEL;
  const maxBuffered = Number(process.env.MAX_BUFFERED_BYTES ?? 1024 * 1024);
  if (!redisUrl || !channel) throw new Error("bareBroadcastServer needs REDIS_URL and CHANNEL");
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  const listening = new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const subscriber = createRedis(redisUrl);
  subscriber.on("message", (_channel: string, message: string) => {
    const data = Buffer.from(message);
    wss.clients.forEach((socket: WebSocket) => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(data, { binary: false });
      if (socket.bufferedAmount > maxBuffered) socket.terminate();
    });
  });
  await subscriber.subscribe(channel);
  await listening;
  const address = wss.address();
  const port = typeof address === "object" && address ? address.port : 0;
  console.log(`bare broadcast server listening on ws://127.0.0.1:${port}`);
  process.on("SIGTERM", () => {
    wss.clients.forEach((socket) => socket.terminate());
    wss.close();
    // Not QUIT: behind a backlog of undelivered messages (5,000 subscribers), its reply took minutes.
    subscriber.disconnect();
    process.exit(0);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
