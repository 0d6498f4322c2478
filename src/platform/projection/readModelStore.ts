import type { RedisClient } from "../core/redis";
import { UnavailableError, ValidationError } from "../core/errors";
import type { LogPosition } from "../eventstore/logPosition";
import { ActiveGenerations } from "./activeGenerations";
import type { GenerationKeys, ReadModelKeys } from "./keys";
import { parseCheckpoint } from "../processing/redisCheckpointer";

/** Separates an index member's sort key from the document id it points to. */
const MEMBER_SEPARATOR = "\u0000";

export function indexMember(sortKey: string, id: string): string {
  return `${sortKey}${MEMBER_SEPARATOR}${id}`;
}

function idOfMember(member: string): string {
  return member.slice(member.lastIndexOf(MEMBER_SEPARATOR) + 1);
}

export interface PageRequest {
  first: number;
  /** Opaque cursor from a previous page's `endCursor`. */
  after?: string | null;
  descending?: boolean;
  /** Ascending pages only: stop after the entries whose sort key is this one (inclusive). */
  upTo?: string;
}

export interface Page<Doc> {
  nodes: Array<{ cursor: string; node: Doc }>;
  hasNextPage: boolean;
  endCursor: string | null;
}

export const MAX_PAGE_SIZE = 100;
export const MAX_ID_LENGTH = 256;

/**
 * The query side's only door to data: documents and sorted indexes in Redis,
 * always read from the projection's active generation.
 */
export class ReadModelStore {
  /**
   * @param generations where the active generation is looked up; by default
   * one that caches nothing until `listen()` is called on it (the api does).
   */
  constructor(
    private readonly redis: RedisClient,
    keys: ReadModelKeys,
    readonly generations: ActiveGenerations = new ActiveGenerations(redis, keys),
  ) {}

  async get<Doc>(projection: string, id: string): Promise<Doc | null> {
    // No id of the write side is this long (they are checked when commands are decided), so none is stored.
    if (id.length > MAX_ID_LENGTH) throw new ValidationError("id", id, `at most ${MAX_ID_LENGTH} characters`);
    const raw = await this.fromActive(
      projection,
      (gen) => this.redis.get(gen.doc(id)),
      (found) => found !== null,
    );
    return raw === null ? null : (JSON.parse(raw) as Doc);
  }

  async page<Doc>(projection: string, index: string, request: PageRequest): Promise<Page<Doc>> {
    if (!Number.isInteger(request.first) || request.first < 1 || request.first > MAX_PAGE_SIZE) {
      throw new ValidationError("first", request.first, `an integer from 1 to ${MAX_PAGE_SIZE}`);
    }
    const after = request.after ? decodeCursor(request.after) : null;
    const read = async (gen: GenerationKeys) => {
      const key = gen.index(index);
      const members = await (request.descending
        ? this.redis.zrange(key, after ? `(${after}` : "+", "-", "BYLEX", "REV", "LIMIT", 0, request.first + 1)
        : this.redis.zrange(key, after ? `(${after}` : "-", upperBound(request.upTo), "BYLEX", "LIMIT", 0, request.first + 1));
      const pageMembers = members.slice(0, request.first);
      const raw = pageMembers.length ? await this.redis.mget(pageMembers.map((m) => gen.doc(idOfMember(m)))) : [];
      return { members, pageMembers, raw };
    };
    // An empty page, or a member whose document is gone, may be a generation being deleted.
    const { members, pageMembers, raw } = await this.fromActive(projection, read, (r) => r.members.length > 0 && r.raw.every((d) => d !== null));
    const nodes = pageMembers.flatMap((member, i) =>
      raw[i] ? [{ cursor: encodeCursor(member), node: JSON.parse(raw[i]!) as Doc }] : [],
    );
    return {
      nodes,
      hasNextPage: members.length > request.first,
      endCursor: pageMembers.length ? encodeCursor(pageMembers.at(-1)!) : (request.after ?? null),
    };
  }

  /** Entries of an index, or only those up to a sort key (inclusive). */
  async count(projection: string, index: string, upTo?: string): Promise<number> {
    return this.fromActive(
      projection,
      (gen) => (upTo === undefined ? this.redis.zcard(gen.index(index)) : this.redis.zlexcount(gen.index(index), "-", upperBound(upTo))),
      (n) => n > 0,
    );
  }

  async checkpoint(projection: string): Promise<LogPosition> {
    const raw = await this.fromActive(
      projection,
      (gen) => this.redis.get(gen.checkpoint),
      (found) => found !== null,
    );
    return parseCheckpoint(raw);
  }

  /**
   * Reads from the active generation. A cached pointer may still name the
   * generation a rebuild has just switched away from (its message in flight)
   * and is deleting: a read that finds nothing there re-reads the pointer and,
   * if it moved, reads again from the new generation. So no query answers from
   * a deleted generation, and the common case stays one round trip.
   */
  private async fromActive<T>(projection: string, read: (gen: GenerationKeys) => Promise<T>, found: (value: T) => boolean): Promise<T> {
    const active = this.generations.cached(projection) ?? (await this.call(() => this.generations.refresh(projection)));
    const value = await this.call(() => read(active.keys));
    if (!active.cached || found(value)) return value;
    const fresh = await this.call(() => this.generations.refresh(projection));
    return fresh.generation === active.generation ? value : this.call(() => read(fresh.keys));
  }

  private async call<T>(read: () => Promise<T>): Promise<T> {
    if (this.redis.status !== "ready") throw new UnavailableError("Redis", `connection is ${this.redis.status}`);
    try {
      return await read();
    } catch (error) {
      throw new UnavailableError("Redis", error);
    }
  }
}

/** Members are `sortKey + separator + id` and the separator sorts first, so `sortKey + "\u0001"` is above every member with that key. */
function upperBound(upTo: string | undefined): string {
  return upTo === undefined ? "+" : `(${upTo}\u0001`;
}

function encodeCursor(member: string): string {
  return Buffer.from(member, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const member = Buffer.from(cursor, "base64url").toString("utf8");
  if (cursor.length > 512 || !member.includes(MEMBER_SEPARATOR) || !idOfMember(member) || encodeCursor(member) !== cursor) {
    throw new ValidationError("after", cursor, "a cursor returned by a previous page");
  }
  return member;
}
