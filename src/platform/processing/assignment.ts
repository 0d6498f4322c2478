import { createHash } from "node:crypto";
import { unitKey, type WorkUnit } from "./leaseStore";

/** A live replica as assignment sees it: a unique id, and its StatefulSet ordinal if it has one. */
export interface Member {
  id: string;
  ordinal: number | null;
}

export interface AssignmentOptions {
  /**
   * Assign by ordinal (a StatefulSet's pods): unit i of the sorted units goes
   * to ordinal i mod `replicas`. Null: by rendezvous hashing alone.
   * `replicas` of 0 means "as many as the highest live ordinal says".
   */
  byOrdinal: { replicas: number } | null;
}

/**
 * Who should own each unit (keyed by unitKey): a pure function of the units
 * and the live members, so every replica computes the same answer from the
 * same view, with no coordinator.
 *
 * Rendezvous (highest random weight) hashing: each unit goes to the member
 * whose hash with it weighs most. When a member joins, it takes only the
 * units it now outweighs (about 1/N of them), and nothing else moves; when
 * one leaves, only its units move. By ordinal, the spread is exact; a unit
 * whose ordinal has no live pod falls back to rendezvous over the live ones,
 * and comes back when that pod returns, whatever its new member id.
 */
export function assign(units: readonly WorkUnit[], members: readonly Member[], options: AssignmentOptions = { byOrdinal: null }): Map<string, string> {
  const owners = new Map<string, string>();
  if (members.length === 0) return owners;
  const sorted = [...units].sort((a, b) => compare(unitKey(a), unitKey(b)));
  const byOrdinal = options.byOrdinal;
  const ordinals = byOrdinal ? groupByOrdinal(members) : null;
  const replicas = byOrdinal && ordinals ? byOrdinal.replicas || Math.max(-1, ...ordinals.keys()) + 1 : 0;
  sorted.forEach((unit, index) => {
    const key = unitKey(unit);
    const preferred = ordinals && replicas > 0 ? ordinals.get(index % replicas) : undefined;
    owners.set(key, highestWeight(key, preferred ?? members));
  });
  return owners;
}

/** The units `member` should own. */
export function unitsOf(member: string, units: readonly WorkUnit[], owners: ReadonlyMap<string, string>): WorkUnit[] {
  return units.filter((unit) => owners.get(unitKey(unit)) === member);
}

function groupByOrdinal(members: readonly Member[]): Map<number, Member[]> {
  const groups = new Map<number, Member[]>();
  for (const member of members) {
    if (member.ordinal === null) continue;
    groups.set(member.ordinal, [...(groups.get(member.ordinal) ?? []), member]);
  }
  return groups;
}

function highestWeight(key: string, candidates: readonly Member[]): string {
  let best: { id: string; weight: number } | null = null;
  for (const { id } of candidates) {
    const weight = rendezvousWeight(key, id);
    if (!best || weight > best.weight || (weight === best.weight && id < best.id)) best = { id, weight };
  }
  return best!.id;
}

/** 48 bits of SHA-256 over the pair: stable across processes and versions, and spread evenly. */
export function rendezvousWeight(unit: string, member: string): number {
  return createHash("sha256").update(unit).update("\u0000").update(member).digest().readUIntBE(0, 6);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
