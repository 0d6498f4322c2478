import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEV_PRINCIPAL } from "./auth";
import { isReservedActor } from "./reservedActors";

/** Every .ts file under src/, tests aside: where the system names the actors it acts as. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** `actor: "x"`, `actor: \`saga:${…}\`` and `ACTOR = "x"`: the literal part, with an interpolation standing for any name. */
function actorLiterals(text: string): string[] {
  const found = [...text.matchAll(/\bactor: *(["'`])([^"'`]*)\1/g), ...text.matchAll(/\b[A-Z_]*ACTOR *= *(["'`])([^"'`]*)\1/g)];
  return found.map((m) => m[2]!.replace(/\$\{[^}]*\}/g, "x"));
}

it("every actor name the system writes into events is reserved: no token may claim it", () => {
  const names = sources(resolve(__dirname, "..")).flatMap((file) => actorLiterals(readFileSync(file, "utf8")));
  // The scan finds the sagas', the saga runner's and the reactors' names; if it finds none, it is broken.
  expect(names).toEqual(expect.arrayContaining(["saga:x", "saga-runner", "reactor:x:x"]));
  expect(names.filter((name) => !isReservedActor(name))).toEqual([]);
  expect(isReservedActor(DEV_PRINCIPAL.subject)).toBe(true);
  expect(isReservedActor("anonymous")).toBe(true);
});

it("ordinary subjects are not reserved, whatever their case", () => {
  for (const name of ["alice", "ops-bot", "developer", "sagan", "reactor-fan", "saga", "reactor"]) expect({ name, reserved: isReservedActor(name) }).toEqual({ name, reserved: false });
  for (const name of ["SAGA:checkout", "Dev", "Reactor:payments:x"]) expect({ name, reserved: isReservedActor(name) }).toEqual({ name, reserved: true });
});
