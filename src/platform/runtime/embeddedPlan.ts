import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

/** Where root's embedded data lives: a system path every user can traverse. */
export const ROOT_DATA_BASE = "/var/lib/eventline";

export interface EmbeddedPlan {
  /** Directory holding `postgres/`, `redis/`, their logs and owner files. */
  dataRoot: string;
  /** OS user the servers run as; null when they run as the invoking user. */
  runAs: string | null;
}

export interface PlanInput {
  uid: number | undefined;
  /** The project directory (where `npm start` runs). */
  cwd: string;
  /** EVENTLINE_DATA_DIR as set, or undefined. */
  dataDir: string | undefined;
  osUser: string;
}

/**
 * PostgreSQL refuses to run as root, so as root the servers run as an
 * unprivileged user, who cannot reach a clone in a private directory (/root,
 * a `mktemp -d`). Their data then goes to a system path keyed by the project
 * directory: stable across restarts, and one per clone.
 */
export function planEmbedded(input: PlanInput): EmbeddedPlan {
  const asRoot = input.uid === 0;
  const runAs = asRoot ? input.osUser : null;
  if (input.dataDir !== undefined) return { dataRoot: path.resolve(input.cwd, input.dataDir), runAs };
  if (!asRoot) return { dataRoot: path.resolve(input.cwd, ".data"), runAs };
  return { dataRoot: path.join(ROOT_DATA_BASE, projectKey(input.cwd)), runAs };
}

/** 12 hex characters of the SHA-256 of the project's absolute path. */
export function projectKey(projectDir: string): string {
  return createHash("sha256").update(path.resolve(projectDir)).digest("hex").slice(0, 12);
}

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  /** true when this start created it */
  created: boolean;
}

export type Run = (command: string, args: string[]) => Promise<string>;

const execFileText: Run = async (command, args) => (await promisify(execFile)(command, args)).stdout;

/**
 * The unprivileged user root runs the servers as; created as a system user
 * (no home, no login shell) when missing, so a machine without PostgreSQL
 * installed needs nothing done by hand.
 */
export async function ensureOsUser(name: string, run: Run = execFileText): Promise<OsUser> {
  const existing = await lookup(name, run);
  if (existing) return { name, ...existing, created: false };
  const shell = existsSync("/usr/sbin/nologin") ? "/usr/sbin/nologin" : "/bin/false";
  const how = `useradd --system --user-group --no-create-home --shell ${shell} ${name}`;
  try {
    await run("useradd", ["--system", "--user-group", "--no-create-home", "--shell", shell, name]);
  } catch (error) {
    const why = firstLine(error instanceof Error ? error.message : String(error));
    throw new Error(
      `running as root, PostgreSQL needs an unprivileged OS user, and creating '${name}' failed (${why}). ` +
        `Fix: run \`${how}\`, or set EVENTLINE_OS_USER to an existing unprivileged user, or run npm start as a normal user`,
    );
  }
  const made = await lookup(name, run);
  if (!made) throw new Error(`useradd reported success but OS user '${name}' is still unknown. Fix: run \`${how}\` and check \`id ${name}\``);
  return { name, ...made, created: true };
}

async function lookup(name: string, run: Run): Promise<{ uid: number; gid: number } | null> {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", name]), run("id", ["-g", name])]);
    const ids = { uid: Number.parseInt(uid, 10), gid: Number.parseInt(gid, 10) };
    return Number.isInteger(ids.uid) && Number.isInteger(ids.gid) ? ids : null;
  } catch {
    return null;
  }
}

export function firstLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  // execFile errors start with "Command failed: <command>"; the tool's own words follow.
  return (lines.find((l) => !l.startsWith("Command failed")) ?? lines[0] ?? "no output").replace(/\.+$/, "");
}
