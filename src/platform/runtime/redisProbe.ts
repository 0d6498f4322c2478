import { createConnection } from "node:net";

type Reply = string | Error | null | Reply[];

/**
 * Sends commands over one short-lived socket and returns their replies. A raw
 * RESP exchange, not ioredis: a refused ioredis connection keeps the process
 * alive for two more seconds, which every start probe would pay (and tests
 * would report as an open handle).
 */
export function redisCommands(port: number, commands: string[][], timeoutMs = 1000): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let buffer = Buffer.alloc(0);
    const done = (error: Error | null, replies?: Reply[]) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(replies ?? []);
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no reply from 127.0.0.1:${port} within ${timeoutMs} ms`)));
    socket.on("error", (error) => done(error));
    socket.on("connect", () => socket.write(commands.map(encode).join("")));
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const replies: Reply[] = [];
      let at = 0;
      while (replies.length < commands.length) {
        const parsed = parse(buffer, at);
        if (!parsed) return; // wait for more
        replies.push(parsed.reply);
        at = parsed.next;
      }
      done(null, replies);
    });
  });
}

function encode(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

function parse(buffer: Buffer, at: number): { reply: Reply; next: number } | null {
  const end = buffer.indexOf("\r\n", at);
  if (end < 0) return null;
  const line = buffer.toString("utf8", at + 1, end);
  const next = end + 2;
  switch (String.fromCharCode(buffer[at]!)) {
    case "+":
    case ":":
      return { reply: line, next };
    case "-":
      return { reply: new Error(line), next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { reply: null, next };
      if (buffer.length < next + length + 2) return null;
      return { reply: buffer.toString("utf8", next, next + length), next: next + length + 2 };
    }
    case "*": {
      const items: Reply[] = [];
      let cursor = next;
      for (let i = 0; i < Number(line); i++) {
        const item = parse(buffer, cursor);
        if (!item) return null;
        items.push(item.reply);
        cursor = item.next;
      }
      return { reply: items, next: cursor };
    }
    default:
      throw new Error(`not a Redis reply: ${line.slice(0, 40)}`);
  }
}
