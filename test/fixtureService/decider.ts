import { z } from "zod";
import type { Decider } from "../../src/platform/aggregate/decider";
import { ValidationError } from "../../src/platform/core/errors";
import type { FixtureEvent } from "./events";

export const FIXTURE_SERVICE = "fixture";

const bumpTally = z.object({ type: z.literal("BumpTally"), tallyId: z.string().min(1), by: z.number().int().positive() });
export type BumpTally = z.infer<typeof bumpTally>;

/** The fixture's one command, parsed at its boundary like a real service's. */
export function parseFixtureCommand(command: unknown): BumpTally {
  const parsed = bumpTally.safeParse(command);
  if (!parsed.success) throw new ValidationError("command", command, "a BumpTally command");
  return parsed.data;
}

export const tallyStreamId = (tallyId: string) => `tally-${tallyId}`;

/** A tally that only counts up. */
export const tallyDecider: Decider<BumpTally, FixtureEvent, number> = {
  initialState: 0,
  decide: (c) => [{ type: "TallyBumped", data: { tallyId: c.tallyId, by: c.by } }],
  evolve: (total, e) => total + e.data.by,
};
