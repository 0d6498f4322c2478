import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { PLATFORM_ROLES } from "../src/platform/runtime/app";
import { services as contexts } from "../src/registry";

const composeFile = resolve(__dirname, "../docker/compose.cluster.yml");
const ROLES = [...PLATFORM_ROLES.filter((role) => role !== "all"), ...contexts.map((s) => s.name)];
// No Docker engine here: docker-compose validates and renders the file offline.
const dockerCompose = ["/usr/bin/docker-compose", "/usr/local/bin/docker-compose"].find((p) => existsSync(p));

type Tree = Record<string, unknown>;
const tree = (value: unknown): Tree => (value !== null && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {});
const text = (value: unknown): string => (Array.isArray(value) ? value.map(String).join(" ") : typeof value === "string" ? value : "");

// `merge`: the file shares the Eventline service block through a YAML anchor (`<<: *eventline`).
const compose = tree(parse(readFileSync(composeFile, "utf8"), { merge: true }));
const services = tree(compose["services"]);
const service = (name: string) => tree(services[name]);
const redisNodes = Object.keys(services).filter((name) => /^redis-\d+$/.test(name));

describe("docker/compose.cluster.yml", () => {
  const render = (env: NodeJS.ProcessEnv) =>
    promisify(execFile)(dockerCompose!, ["-f", composeFile, "config"], { env: { PATH: process.env["PATH"], ...env } });

  (dockerCompose ? it : it.skip)("passes docker-compose config", async () => {
    const { stdout } = await render({ AUTH_JWT_SECRET: "k".repeat(64) });
    const rendered = tree(tree(parse(stdout))["services"]);
    expect(Object.keys(rendered).sort()).toEqual(Object.keys(services).sort());
  });

  (dockerCompose ? it : it.skip)("refuses up front without AUTH_JWT_SECRET", async () => {
    const error: unknown = await render({}).catch((e: unknown) => e);
    expect(text(tree(error)["stderr"])).toMatch(/AUTH_JWT_SECRET is not set or empty/);
  });

  it("runs a Redis Cluster of 6 nodes that a one-shot service joins as 3 masters with a replica each", () => {
    expect(redisNodes).toHaveLength(6);
    for (const name of redisNodes) {
      expect(text(service(name)["command"])).toMatch(/redis-server .*--cluster-enabled yes/);
      expect(text(tree(service(name)["healthcheck"])["test"])).toMatch(/redis-cli ping/);
    }
    const create = service("redis-cluster-create");
    expect(text(create["command"])).toMatch(/redis-cli --cluster create .*--cluster-replicas 1 --cluster-yes/);
    for (const name of redisNodes) {
      expect(text(create["command"])).toContain(name);
      expect(tree(tree(create["depends_on"])[name])["condition"]).toBe("service_healthy");
    }
  });

  it("runs a PostgreSQL primary and a hot standby cloned from it with pg_basebackup -R", () => {
    expect(text(service("postgres-primary")["entrypoint"])).toContain("wal_level=replica");
    const standby = text(service("postgres-standby")["entrypoint"]);
    expect(standby).toMatch(/pg_basebackup -h postgres-primary .*-R -X stream/);
    expect(standby).toContain("hot_standby=on");
    expect(text(tree(service("postgres-standby")["healthcheck"])["test"])).toContain("pg_is_in_recovery()");
  });

  it("runs 2+ replicas of every role, on the cluster and the standby, with a /health check on the port it serves", () => {
    for (const role of ROLES) {
      const s = service(role);
      const env = tree(s["environment"]);
      expect({ role, command: s["command"] }).toEqual({ role, command: [role] });
      expect(Number(tree(s["deploy"])["replicas"])).toBeGreaterThanOrEqual(2);
      expect(new URL(text(env["DATABASE_URL"])).hostname).toBe("postgres-primary");
      expect(new URL(text(env["DATABASE_READ_URL"])).hostname).toBe("postgres-standby");
      expect(text(env["REDIS_CLUSTER_NODES"]).split(",").map((n) => n.split(":")[0]).sort()).toEqual([...redisNodes].sort());
      expect(env["REDIS_URL"]).toBeUndefined();
      const port = role === "api" ? 4000 : Number(env["METRICS_PORT"]);
      expect(text(tree(s["healthcheck"])["test"])).toContain(`http://127.0.0.1:${port}/health`);
      const dependsOn = tree(s["depends_on"]);
      expect(tree(dependsOn["redis-cluster-create"])["condition"]).toBe("service_completed_successfully");
      expect(tree(dependsOn["postgres-standby"])["condition"]).toBe("service_healthy");
    }
  });
});
