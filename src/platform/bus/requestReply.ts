import { DomainError, ErrorCode } from "../core/errors";
import type { Reply } from "./reply";

/** A request its lane did not answer within the caller's bound. It may still run: the lane's message says what happens to it. */
export class RequestTimeoutError extends DomainError<"COMMAND_TIMEOUT"> {
  constructor(message: string, details: Record<string, unknown>) {
    super(ErrorCode.COMMAND_TIMEOUT, message, details);
  }
}

/** One request as its lane carries it: the small interface a transport implements. */
export interface Exchange<T> {
  /**
   * Puts the request under its id; returns the reply at once when the lane
   * already holds one for it (a resend), "new" when it was just put, so no
   * reply can be stored yet and the first read is skipped.
   */
  put(): Promise<Reply<T> | "new" | null>;
  /** The reply stored for the request, or null while it has none. */
  read(): Promise<Reply<T> | null>;
  timeoutMs: number;
  /** Reads again this often, in case a lane's notice was lost; without it only notices wake the caller. */
  pollMs?: number;
  timedOut(): RequestTimeoutError;
  /** Turns a lane's progress notice into the request's answer (an error), or ignores it. */
  onNotice?(notice: unknown): DomainError | undefined;
}

/** What a lane tells the core about a request id. */
export type Heard<T> = { reply: Reply<T> } | { failure: DomainError } | { notice: unknown } | { changed: true };

type Listener<T> = (heard: Heard<T>) => void;

/**
 * The request/reply core, knowing nothing of BullMQ or PostgreSQL: it waits
 * for the reply of a request by its id, from what its lane hears (`hear`) and
 * reads, up to the caller's bound. Lanes own only their transport.
 */
export class RequestReply<T> {
  private readonly listeners = new Map<string, Set<Listener<T>>>();

  /** A lane's news about request `id`; null: about every request (a notice without a key). */
  hear(id: string | null, heard: Heard<T>): void {
    if (id === null) this.listeners.forEach((set) => set.forEach((listen) => listen(heard)));
    else this.listeners.get(id)?.forEach((listen) => listen(heard));
  }

  async request(id: string, exchange: Exchange<T>): Promise<Reply<T>> {
    const heard: Array<Heard<T>> = [];
    let wake = (): void => undefined;
    const listen: Listener<T> = (news) => {
      heard.push(news);
      wake();
    };
    // Listening before the put: a reply that comes before the first read is heard, not lost.
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listen);
    try {
      const earlier = await exchange.put();
      if (earlier && earlier !== "new") return earlier;
      const deadline = Date.now() + exchange.timeoutMs;
      let read = earlier !== "new";
      for (;;) {
        if (read) {
          const reply = await exchange.read();
          if (reply) return reply;
          read = false;
        }
        for (const news of heard.splice(0)) {
          if ("reply" in news) return news.reply;
          if ("failure" in news) throw news.failure;
          if ("notice" in news) {
            const refusal = exchange.onNotice?.(news.notice);
            if (refusal) throw refusal;
          } else read = true;
        }
        if (read) continue;
        const left = deadline - Date.now();
        if (left <= 0) throw exchange.timedOut();
        read = await new Promise<boolean>((resolve) => {
          const polled = exchange.pollMs !== undefined && exchange.pollMs < left;
          const timer = setTimeout(() => resolve(exchange.pollMs !== undefined), polled ? exchange.pollMs : left);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        wake = () => undefined;
      }
    } finally {
      set.delete(listen);
      if (set.size === 0) this.listeners.delete(id);
    }
  }
}
