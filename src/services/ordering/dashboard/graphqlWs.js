// The graphql-ws protocol (subprotocol "graphql-transport-ws") by hand: the
// page needs five message types, which is less than serving graphql-ws's
// client bundle from node_modules through a route of its own.
// https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md

/** graphql-ws close codes for a refused connection_init. */
export const UNAUTHORIZED = 4401;
export const FORBIDDEN = 4403;

/**
 * One connection, reconnecting with backoff unless the server refused the
 * token. `operations` maps an id to { query, variables, onData }; every
 * operation is (re)started on each acknowledged connection.
 */
export function connect({ url, authorization, operations, onState }) {
  let socket;
  let retryMs = 500;
  let stopped = false;

  const open = () => {
    onState("connecting");
    socket = new WebSocket(url, "graphql-transport-ws");
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "connection_init", payload: authorization ? { authorization } : {} }));
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      switch (message.type) {
        case "connection_ack":
          retryMs = 500;
          onState("live");
          for (const [id, op] of Object.entries(operations)) {
            socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: op.query, variables: op.variables ?? {} } }));
          }
          break;
        case "ping":
          socket.send(JSON.stringify({ type: "pong" }));
          break;
        case "next":
          operations[message.id]?.onData(message.payload.data, message.payload.errors);
          break;
        case "error":
          operations[message.id]?.onData(null, message.payload);
          break;
      }
    };
    socket.onclose = (event) => {
      if (stopped) return;
      if (event.code === UNAUTHORIZED || event.code === FORBIDDEN) {
        onState("refused", event.reason || `closed with ${event.code}`);
        return;
      }
      onState("closed", `retrying in ${Math.round(retryMs / 100) / 10} s`);
      setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    };
  };
  open();
  return {
    close() {
      stopped = true;
      socket.close(1000, "page closed");
    },
  };
}
