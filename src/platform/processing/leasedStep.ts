import type { Fence } from "./checkpointer";
import type { LeaseCoordinator } from "./leaseCoordinator";
import type { ProcessorStep, StepResult } from "./types";
import type { UnitLease } from "./unitLease";

/**
 * Leases wrap the ProcessorStep (decision 0019): only the owner of the unit
 * drives it, and the inner step commits under the owner's token (built with
 * `fence: leaseFence(lease)`). Elsewhere a step is a `standby` that reads
 * nothing. A FENCED commit means a newer owner already committed: it is a
 * hand-off, not an error, and this replica stops driving the unit at once.
 */
export class LeasedStep implements ProcessorStep {
  readonly name: string;

  constructor(
    private readonly inner: ProcessorStep,
    readonly lease: UnitLease,
    private readonly coordinator: LeaseCoordinator,
  ) {
    this.name = inner.name;
  }

  async step(): Promise<StepResult> {
    const result = await this.lease.drive(() => this.inner.step());
    if (result === null) return { kind: "standby" };
    if (result.kind === "superseded" && result.fenced) {
      this.coordinator.fenced(this.lease);
      return { kind: "standby" };
    }
    return result;
  }
}

/**
 * The fence a leased step commits under: the token its lease held when the
 * step began (a step starts only while the lease is held, and the token
 * changes only while no step runs).
 */
export function leaseFence(lease: UnitLease): () => Fence {
  return () => ({ token: lease.token });
}
