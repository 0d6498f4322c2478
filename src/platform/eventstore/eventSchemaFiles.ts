import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { EventRegistry } from "./eventRegistry";

/** `<dir>/<owner>/<Type>.v<N>.json`: one file per event type and version, committed. */
export function eventSchemaPath(dir: string, owner: string, type: string, version: number): string {
  return join(dir, owner, `${type}.v${version}.json`);
}

interface VersionFile {
  path: string;
  type: string;
  version: number;
  current: number;
  schema: object;
}

function versionFiles(registry: EventRegistry, dir: string): VersionFile[] {
  return registry.types().flatMap(({ owner, type, jsonSchemas }) =>
    jsonSchemas.map((schema, i) => ({
      path: eventSchemaPath(dir, owner, type, i + 1),
      type,
      version: i + 1,
      current: jsonSchemas.length,
      schema,
    })),
  );
}

function committed(path: string): unknown {
  return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : undefined;
}

function changedMessage(file: VersionFile, shown: string): string {
  if (file.version === file.current) {
    return (
      `${file.type} changed without a new version: its v${file.version} in the code no longer matches ${shown}. ` +
      `A shipped version never changes: restore v${file.version}, add the new shape as v${file.version + 1} ` +
      `(eventType(v${file.version}).then(v${file.version + 1}, upcaster)) and run npm run schema:emit.`
    );
  }
  return `${file.type} v${file.version} was edited, but it no longer matches ${shown}. A shipped version never changes: restore it.`;
}

/**
 * Everything that differs between the code's event schemas and the committed
 * files under `dir`: missing files, changed versions and files the code no
 * longer has. Empty when they agree.
 */
export function checkEventSchemas(registry: EventRegistry, dir: string): string[] {
  const problems: string[] = [];
  const expected = versionFiles(registry, dir);
  for (const file of expected) {
    const shown = relative(process.cwd(), file.path);
    const onDisk = committed(file.path);
    if (onDisk === undefined) problems.push(`${shown} is missing: run npm run schema:emit and commit it.`);
    else if (!isDeepStrictEqual(onDisk, file.schema)) problems.push(changedMessage(file, shown));
  }
  const known = new Set(expected.map((f) => f.path));
  for (const path of listJson(dir)) {
    if (!known.has(path)) {
      problems.push(`${relative(process.cwd(), path)} has no counterpart in the code: versions are never removed, and upcasters need every one.`);
    }
  }
  return problems;
}

/**
 * Writes the files of new types and versions. Never overwrites a committed
 * version with different content: those are returned as conflicts instead.
 */
export function emitEventSchemas(registry: EventRegistry, dir: string): { written: string[]; conflicts: string[] } {
  const written: string[] = [];
  const conflicts: string[] = [];
  for (const file of versionFiles(registry, dir)) {
    const onDisk = committed(file.path);
    if (onDisk === undefined) {
      mkdirSync(join(file.path, ".."), { recursive: true });
      writeFileSync(file.path, `${JSON.stringify(file.schema, null, 2)}\n`);
      written.push(file.path);
    } else if (!isDeepStrictEqual(onDisk, file.schema)) {
      conflicts.push(changedMessage(file, relative(process.cwd(), file.path)));
    }
  }
  return { written, conflicts };
}

function listJson(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listJson(join(dir, entry.name)) : entry.name.endsWith(".json") ? [join(dir, entry.name)] : [],
  );
}
