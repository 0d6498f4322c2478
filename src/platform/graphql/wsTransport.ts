import type { IncomingMessage } from "node:http";
import { CloseCode, type ConnectionInitMessage, makeServer, type ServerOptions } from "graphql-ws";
import type { WebSocket, WebSocketServer } from "ws";

/**
 * graphql-ws's core over `ws`, as graphql-ws/use/ws does it, with one change:
 * a send does not wait for the socket to flush. use/ws awaits each write, so a
 * client that stops reading stalls each of its subscriptions, and their events
 * pile up unbounded in the subscription iterators, out of sight. Here every
 * message goes straight to the socket's buffer (`bufferedAmount`), which is
 * bounded: past `maxBufferedBytes` the socket is closed with WS_SLOW_READER and
 * its subscriptions end at once, so one slow client never holds more than
 * that, and never holds up anybody else.
 */

/** Close code for a client that stopped reading: "Try Again Later", which graphql-ws's client retries. */
export const WS_SLOW_READER = 1013;

export interface SocketExtra {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  /** Closes the socket and ends its operations now, not once the client has answered the close (which a stalled client never does). */
  readonly end: (code: number, reason: string) => void;
}

export interface TransportOptions {
  /** Most bytes queued for one client before it is closed (WS_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number;
  /** Ping period; a socket that does not answer within it is dropped. */
  keepAliveMs?: number;
  /** Told of each socket closed because it stopped reading. */
  onSlowReader?(extra: SocketExtra, bufferedBytes: number): void;
  /** Told of errors on the server or a socket (they are closed with 4500 and no detail). */
  onError(error: unknown): void;
}

export type GraphQLWsOptions = ServerOptions<ConnectionInitMessage["payload"], SocketExtra>;

export function serveGraphQLOverWebSocket(
  options: GraphQLWsOptions,
  wss: WebSocketServer,
  transport: TransportOptions,
): { dispose(): Promise<void> } {
  const server = makeServer(options);
  const keepAliveMs = transport.keepAliveMs ?? 12_000;
  wss.options.handleProtocols = (protocols) => (protocols.has("graphql-transport-ws") ? "graphql-transport-ws" : false);
  wss.once("error", (error) => {
    transport.onError(error);
    for (const client of wss.clients) client.close(CloseCode.InternalServerError, "Internal server error");
  });

  wss.on("connection", (socket, request) => {
    let ended = false;
    let pongWait: NodeJS.Timeout | null = null;
    const ping = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
      socket.once("pong", () => {
        if (pongWait) clearTimeout(pongWait);
        pongWait = null;
      });
      socket.ping();
    }, keepAliveMs);
    const stopTimers = () => {
      clearInterval(ping);
      if (pongWait) clearTimeout(pongWait);
    };
    socket.once("error", (error) => {
      transport.onError(error);
      socket.close(CloseCode.InternalServerError, "Internal server error");
    });

    const end = (code: number, reason: string) => {
      if (ended) return;
      ended = true;
      stopTimers();
      socket.close(code, reason);
      closed(code, reason).catch(transport.onError);
    };
    const extra: SocketExtra = { socket, request, end };
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: async (data) => {
          if (socket.readyState !== socket.OPEN) return;
          socket.send(data);
          if (socket.bufferedAmount > transport.maxBufferedBytes) {
            transport.onSlowReader?.(extra, socket.bufferedAmount);
            end(WS_SLOW_READER, `Outgoing buffer over ${transport.maxBufferedBytes} bytes: read faster, or reconnect later`);
          }
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on("message", (data) => {
            // Once ended, nothing the client still sends (before it reads the close) is acted on.
            if (ended) return;
            handle(String(data)).catch((error: unknown) => {
              transport.onError(error);
              socket.close(CloseCode.InternalServerError, "Internal server error");
            });
          }),
      },
      extra,
    );
    socket.once("close", (code, reason) => {
      stopTimers();
      if (ended) return;
      ended = true;
      closed(code, String(reason)).catch(transport.onError);
    });
  });

  return {
    async dispose() {
      for (const client of wss.clients) client.close(1001, "Going away");
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
