import { Agent, request } from "node:http";

/**
 * A lean keep-alive JSON POST client: the load generator shares two cores
 * with the servers it measures, so it should cost as little as possible.
 */
export class JsonClient {
  // Idle sockets are dropped here before Node's servers drop them (keepAliveTimeout, 5 s): a request sent on a
  // socket the server is closing fails with "socket hang up" (seen after the query bench's in-process phase).
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity, timeout: 4000 });
  private readonly url: URL;

  constructor(url: string) {
    this.url = new URL(url);
  }

  post<T = unknown>(body: unknown, path = this.url.pathname + this.url.search): Promise<T> {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          path,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode} from ${path}: ${text.slice(0, 300)}`));
            try {
              resolve(JSON.parse(text) as T);
            } catch (error) {
              reject(error as Error);
            }
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** Throws on GraphQL errors, so a benchmark never counts failures as throughput. */
export function dataOf(body: GraphQLBody): Record<string, unknown> {
  if (body.errors?.length || !body.data) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.data;
}
