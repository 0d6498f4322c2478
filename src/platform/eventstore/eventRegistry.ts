import { createHash } from "node:crypto";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { z } from "zod";
import { DomainError, ErrorCode } from "../core/errors";
import type { EventSchemas, Upcaster } from "./eventSchemas";
import type { RecordedEvent } from "./types";

export class InvalidEventError extends DomainError<"INVALID_EVENT"> {
  constructor(type: string, schemaVersion: number | null, problem: string, errors: readonly string[] = []) {
    super(
      ErrorCode.INVALID_EVENT,
      `Event ${type}${schemaVersion === null ? "" : ` v${schemaVersion}`} ${problem}${errors.length ? `: ${errors.join("; ")}` : ""}`,
      { type, schemaVersion, errors },
    );
  }
}

/** One event type as the registry knows it: who owns it and its JSON Schema at every version. */
export interface RegisteredEventType {
  readonly owner: string;
  readonly type: string;
  /** `jsonSchemas[n - 1]` is version n; the last is current. */
  readonly jsonSchemas: readonly object[];
}

interface Entry extends RegisteredEventType {
  readonly current: number;
  readonly validators: readonly ValidateFunction[];
  readonly upcasters: readonly Upcaster[];
}

/** The JSON Schema of one version, as committed under schema/events/ and checked on append. */
export function toJsonSchema(type: string, version: number, schema: z.ZodType): object {
  return { title: `${type} v${version}`, ...z.toJSONSchema(schema, { target: "draft-7" }) };
}

/**
 * Every event type of the system with its versions: checks events before
 * they are appended and upcasts old versions as they are read, so deciders,
 * projections and sagas only ever see current versions. Validators are
 * compiled once, here.
 */
export class EventRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Changes whenever any type's current version changes: state folded from events is only valid under the same one. */
  readonly fingerprint: string;

  constructor(owners: ReadonlyArray<{ name: string; events: EventSchemas }>) {
    const ajv = new Ajv({ strict: true, allErrors: true });
    addFormats(ajv);
    for (const { name: owner, events } of owners) {
      for (const [type, history] of Object.entries(events)) {
        const existing = this.entries.get(type);
        if (existing) throw new Error(`event type ${type} is registered by both ${existing.owner} and ${owner}`);
        if (history.upcasters.length !== history.versions.length - 1) {
          throw new Error(`event type ${type} has ${history.versions.length} versions but ${history.upcasters.length} upcasters`);
        }
        const jsonSchemas = history.versions.map((schema, i) => toJsonSchema(type, i + 1, schema));
        this.entries.set(type, {
          owner,
          type,
          jsonSchemas,
          current: jsonSchemas.length,
          validators: jsonSchemas.map((schema) => ajv.compile(schema)),
          upcasters: history.upcasters,
        });
      }
    }
    const versions = [...this.entries.values()].map((e) => `${e.type}@${e.current}`).sort();
    this.fingerprint = createHash("sha256").update(versions.join(",")).digest("hex").slice(0, 12);
  }

  types(): RegisteredEventType[] {
    return [...this.entries.values()];
  }

  currentVersion(type: string): number | undefined {
    return this.entries.get(type)?.current;
  }

  /**
   * Throws INVALID_EVENT unless `data` matches the schema of `type` at
   * `schemaVersion` (the current one when not given); returns the version checked.
   */
  validate(type: string, schemaVersion: number | undefined, data: unknown): number {
    const entry = this.entries.get(type);
    if (!entry) throw new InvalidEventError(type, null, `is not a registered event type`);
    const version = schemaVersion ?? entry.current;
    const validator = entry.validators[version - 1];
    if (!validator) throw new InvalidEventError(type, version, `has no schema (versions 1 to ${entry.current} exist)`);
    if (!validator(data)) {
      const errors = (validator.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
      throw new InvalidEventError(type, version, "does not match its schema", errors);
    }
    return version;
  }

  /** The event at its type's current version; events of unregistered types pass unchanged. */
  upcast<E extends RecordedEvent>(event: E): E {
    const entry = this.entries.get(event.type);
    if (!entry || event.schemaVersion === entry.current) return event;
    if (event.schemaVersion > entry.current || event.schemaVersion < 1) {
      throw new InvalidEventError(event.type, event.schemaVersion, `is unknown to this code (it reads up to v${entry.current}); was it written by a newer release?`);
    }
    let data = event.data;
    for (let v = event.schemaVersion; v < entry.current; v++) data = entry.upcasters[v - 1]!(data);
    return { ...event, schemaVersion: entry.current, data };
  }
}
