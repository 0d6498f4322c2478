/**
 * Actor names the system writes into event metadata itself: sagas
 * (`saga:<name>`, `saga-runner`), reactors (`reactor:<service>:<name>`),
 * dev mode (`dev`), the unauthenticated placeholder (`anonymous`) and the
 * benchmarks (`bench`). A token whose `sub` is one of them would let its
 * holder pass for the system in the audit trail, so jwtAuthenticator refuses
 * it. Compared without case, so `Saga:x` cannot pass for `saga:x` to a reader.
 * reservedActors.unit.test.ts checks every actor literal in src/ is covered.
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set(["dev", "anonymous", "saga-runner", "bench", "system"]);
const RESERVED_PREFIXES: readonly string[] = ["saga:", "reactor:", "system:"];

export function isReservedActor(subject: string): boolean {
  const name = subject.toLowerCase();
  return RESERVED_NAMES.has(name) || RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** For messages and docs: what is reserved. */
export const RESERVED_ACTORS_DESCRIPTION = `${[...RESERVED_NAMES].map((n) => `'${n}'`).join(", ")} and names starting with ${RESERVED_PREFIXES.map((p) => `'${p}'`).join(", ")}`;
