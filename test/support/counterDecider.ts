import type { Decider } from "../../src/platform/aggregate/decider";
import { DomainError } from "../../src/platform/core/errors";
import type { DomainEvent } from "../../src/platform/eventstore/types";

/** The toy aggregate of the platform's command tests: small, yet concurrent decisions matter. */
export const COUNTER_LIMIT = 1000;

/** `counter` names the stream for the bus tests, which send commands without a stream id. */
export type Add = { type: "Add"; amount: number; counter?: string };
/** Each event carries the total it was decided on: a decision on stale state shows as a wrong total. */
export type Added = DomainEvent<"Added", { amount: number; total: number }>;

/** A counter that refuses to pass COUNTER_LIMIT (code LIMIT). */
export const counterDecider: Decider<Add, Added, number> = {
  initialState: 0,
  decide: (c, total) => {
    if (total + c.amount > COUNTER_LIMIT) throw new DomainError("LIMIT", `would pass ${COUNTER_LIMIT}`);
    return [{ type: "Added", data: { amount: c.amount, total: total + c.amount } }];
  },
  evolve: (_total, e) => e.data.total,
};
