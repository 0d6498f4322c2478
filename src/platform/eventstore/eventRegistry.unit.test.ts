import { z } from "zod";
import { ErrorCode } from "../core/errors";
import { EventRegistry, InvalidEventError } from "./eventRegistry";
import { eventType } from "./eventSchemas";
import type { RecordedEvent } from "./types";

const measuredV1 = z.object({ sku: z.string(), quantity: z.number().int() });
const measuredV2 = z.object({ sku: z.string(), quantity: z.number().int(), unit: z.enum(["piece", "kg"]) });
const measuredV3 = z.object({ sku: z.string(), amount: z.object({ value: z.number().int(), unit: z.enum(["piece", "kg"]) }) });

const registry = new EventRegistry([
  {
    name: "shop",
    events: {
      Measured: eventType(measuredV1)
        .then(measuredV2, (v1) => ({ ...v1, unit: "piece" as const }))
        .then(measuredV3, ({ sku, quantity, unit }) => ({ sku, amount: { value: quantity, unit } })),
      Noted: eventType(z.object({ text: z.string() })),
    },
  },
]);

const recorded = (type: string, schemaVersion: number, data: unknown): RecordedEvent => ({
  eventId: "e",
  streamId: "s",
  streamVersion: 1,
  globalPosition: 1n,
  position: { transactionId: 1n, globalPosition: 1n },
  type,
  schemaVersion,
  data,
  metadata: { correlationId: "c", causationId: "c", actor: "t", recordedAt: "2026-01-01T00:00:00.000Z" },
});

describe("validate", () => {
  it("accepts data of the current version, and returns that version", () => {
    expect(registry.validate("Measured", undefined, { sku: "A", amount: { value: 2, unit: "kg" } })).toBe(3);
  });

  it("checks an explicitly older version against that version's schema", () => {
    expect(registry.validate("Measured", 1, { sku: "A", quantity: 2 })).toBe(1);
    expect(() => registry.validate("Measured", 1, { sku: "A", amount: { value: 2, unit: "kg" } })).toThrow(InvalidEventError);
  });

  it("refuses a wrong type, a missing field and an extra field, naming each", () => {
    const refusal = (data: unknown) => {
      try {
        registry.validate("Measured", undefined, data);
      } catch (error) {
        return error as InvalidEventError;
      }
      throw new Error("accepted");
    };
    const wrongType = refusal({ sku: "A", amount: { value: 1.5, unit: "kg" } });
    expect(wrongType).toMatchObject({ code: ErrorCode.INVALID_EVENT, details: { type: "Measured", schemaVersion: 3 } });
    expect(wrongType.message).toMatch(/\/amount\/value must be integer/);
    expect(refusal({ amount: { value: 1, unit: "kg" } }).message).toMatch(/must have required property 'sku'/);
    expect(refusal({ sku: "A", amount: { value: 1, unit: "kg" }, extra: 1 }).message).toMatch(/must NOT have additional properties/);
  });

  it("refuses unknown types and versions", () => {
    expect(() => registry.validate("Unheard", undefined, {})).toThrow(/not a registered event type/);
    expect(() => registry.validate("Measured", 4, {})).toThrow(/has no schema \(versions 1 to 3 exist\)/);
  });
});

describe("upcast", () => {
  it("runs every upcaster from the stored version to the current one", () => {
    expect(registry.upcast(recorded("Measured", 1, { sku: "A", quantity: 2 }))).toMatchObject({
      schemaVersion: 3,
      data: { sku: "A", amount: { value: 2, unit: "piece" } },
    });
    expect(registry.upcast(recorded("Measured", 2, { sku: "A", quantity: 2, unit: "kg" }))).toMatchObject({
      schemaVersion: 3,
      data: { sku: "A", amount: { value: 2, unit: "kg" } },
    });
  });

  it("returns current and unregistered events as they are", () => {
    const current = recorded("Measured", 3, { sku: "A", amount: { value: 2, unit: "kg" } });
    expect(registry.upcast(current)).toBe(current);
    const foreign = recorded("Elsewhere", 7, { anything: true });
    expect(registry.upcast(foreign)).toBe(foreign);
  });

  it("refuses a version newer than the code knows", () => {
    expect(() => registry.upcast(recorded("Measured", 4, {}))).toThrow(/newer release/);
  });
});

it("refuses two owners registering one type, and a history whose upcasters do not match its versions", () => {
  const noted = eventType(z.object({ text: z.string() }));
  expect(() => new EventRegistry([{ name: "a", events: { Noted: noted } }, { name: "b", events: { Noted: noted } }])).toThrow(
    /registered by both a and b/,
  );
  expect(() => new EventRegistry([{ name: "a", events: { Noted: { versions: [z.object({}), z.object({})], upcasters: [] } } }])).toThrow(
    /2 versions but 0 upcasters/,
  );
});

it("the fingerprint changes when a type's current version does, and only then", () => {
  const of = (events: ConstructorParameters<typeof EventRegistry>[0]) => new EventRegistry(events).fingerprint;
  const v1 = eventType(measuredV1);
  const v2 = eventType(measuredV1).then(measuredV2, (d) => ({ ...d, unit: "piece" as const }));
  expect(of([{ name: "x", events: { Measured: v1 } }])).toBe(of([{ name: "x", events: { Measured: eventType(measuredV1) } }]));
  expect(of([{ name: "x", events: { Measured: v1 } }])).not.toBe(of([{ name: "x", events: { Measured: v2 } }]));
});
