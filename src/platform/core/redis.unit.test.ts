import { loadConfig } from "../../config";
import { redisTarget } from "../runtime/redisTarget";
import { bullPrefix, parseClusterNodes } from "./redis";

describe("REDIS_CLUSTER_NODES", () => {
  it("parses host:port entries, with spaces and IPv6 in brackets", () => {
    expect(parseClusterNodes("redis-1:6379, redis-2:6380,[::1]:7000")).toEqual([
      { host: "redis-1", port: 6379 },
      { host: "redis-2", port: 6380 },
      { host: "::1", port: 7000 },
    ]);
    expect(parseClusterNodes(undefined)).toBeNull();
    expect(parseClusterNodes(" ")).toBeNull();
    expect(() => parseClusterNodes("redis-1")).toThrow(/host:port/);
    expect(() => parseClusterNodes("redis-1:0")).toThrow(/host:port/);
  });

  it("is validated at start-up, and when set wins over REDIS_URL", () => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: "redis-1:6379,redis-2" })).toThrow(/REDIS_CLUSTER_NODES/);
    const config = loadConfig({ REDIS_URL: "redis://single:6379", REDIS_CLUSTER_NODES: "a:1,b:2" });
    expect(redisTarget(config)).toEqual({ cluster: [{ host: "a", port: 1 }, { host: "b", port: 2 }] });
    expect(redisTarget(loadConfig({ REDIS_URL: "redis://single:6379", REDIS_CLUSTER_NODES: "" }))).toBe("redis://single:6379");
    expect(redisTarget(loadConfig({}))).toBeNull();
  });

  it("gives each BullMQ queue a prefix with a hash tag of its own", () => {
    expect(bullPrefix("eventline", "commands.ordering")).toBe("eventline:{q:commands.ordering}");
  });
});
