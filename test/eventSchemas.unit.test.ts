import "reflect-metadata";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { eventRegistryOf } from "../src/platform/runtime/eventCatalog";
import { EventRegistry } from "../src/platform/eventstore/eventRegistry";
import { eventType } from "../src/platform/eventstore/eventSchemas";
import { checkEventSchemas, emitEventSchemas, eventSchemaPath } from "../src/platform/eventstore/eventSchemaFiles";
import { services } from "../src/registry";

const committedDir = resolve(__dirname, "../schema/events");

it("every event type's schema in the code equals its committed schema/events/<owner>/<Type>.v<N>.json", () => {
  // On failure the message says what to do: restore a shipped version, add v<N+1> with an upcaster, or emit a new file.
  expect(checkEventSchemas(eventRegistryOf(services), committedDir)).toEqual([]);
});

it("every registered event type has a committed schema for each of its versions", () => {
  const registry = eventRegistryOf(services);
  const files = registry.types().flatMap((t) => t.jsonSchemas.map((_, i) => eventSchemaPath(committedDir, t.owner, t.type, i + 1)));
  expect(files.length).toBeGreaterThanOrEqual(registry.types().length);
  for (const file of files) expect(JSON.parse(readFileSync(file, "utf8"))).toHaveProperty("type", "object");
});

describe("the drift check, on a scratch directory", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "event-schemas-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const v1 = z.object({ sku: z.string(), quantity: z.number().int() });
  const registryWith = (history: ReturnType<typeof eventType>) =>
    new EventRegistry([{ name: "shop", events: { ThingCounted: history } }]);

  it("fails when a type's shape changes without a new version, and says to add v2 with an upcaster", () => {
    emitEventSchemas(registryWith(eventType(v1)), dir);
    const changed = registryWith(eventType(v1.extend({ unit: z.string() })));
    const problems = checkEventSchemas(changed, dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/ThingCounted changed without a new version/);
    expect(problems[0]).toMatch(/add the new shape as v2 .*upcaster/);
  });

  it("passes once the change is a new version, and the emitter writes only the new file", () => {
    emitEventSchemas(registryWith(eventType(v1)), dir);
    const before = readFileSync(eventSchemaPath(dir, "shop", "ThingCounted", 1), "utf8");
    const evolved = registryWith(eventType(v1).then(v1.extend({ unit: z.string() }), (d) => ({ ...d, unit: "piece" })));
    expect(checkEventSchemas(evolved, dir)).toEqual([expect.stringMatching(/ThingCounted\.v2\.json is missing/)]);
    const { written, conflicts } = emitEventSchemas(evolved, dir);
    expect({ written, conflicts }).toEqual({ written: [eventSchemaPath(dir, "shop", "ThingCounted", 2)], conflicts: [] });
    expect(readFileSync(eventSchemaPath(dir, "shop", "ThingCounted", 1), "utf8")).toBe(before);
    expect(checkEventSchemas(evolved, dir)).toEqual([]);
  });

  it("the emitter never overwrites a committed version with different content", () => {
    emitEventSchemas(registryWith(eventType(v1)), dir);
    const file = eventSchemaPath(dir, "shop", "ThingCounted", 1);
    const before = readFileSync(file, "utf8");
    const { written, conflicts } = emitEventSchemas(registryWith(eventType(v1.extend({ unit: z.string() }))), dir);
    expect(written).toEqual([]);
    expect(conflicts).toEqual([expect.stringMatching(/changed without a new version/)]);
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("flags an edited old version and a committed version the code no longer has", () => {
    const evolved = eventType(v1).then(v1.extend({ unit: z.string() }), (d) => ({ ...d, unit: "piece" }));
    emitEventSchemas(registryWith(evolved), dir);
    writeFileSync(eventSchemaPath(dir, "shop", "ThingCounted", 3), "{}\n");
    const editedV1 = eventType(v1.extend({ note: z.string() })).then(v1.extend({ unit: z.string() }), (d) => ({ ...d, unit: "piece" }));
    const problems = checkEventSchemas(registryWith(editedV1), dir);
    expect(problems).toEqual([
      expect.stringMatching(/ThingCounted v1 was edited/),
      expect.stringMatching(/ThingCounted\.v3\.json has no counterpart in the code/),
    ]);
  });
});
