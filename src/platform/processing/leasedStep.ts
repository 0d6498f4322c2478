import type { LeaseCoordinator } from "./leaseCoordinator";
import type { ProcessorStep, StepResult } from "./types";
import type { UnitLease } from "./unitLease";

/**
 * Leases wrap the ProcessorStep (decision 0019): only the owner of the unit
 * drives it, passing its token as the fence. Elsewhere a step is a `standby`
 * that reads nothing. A FENCED commit means a newer owner already committed:
 * it is a hand-off, not an error, and this replica stops driving the unit.
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
    const result = await this.lease.drive((fence) => this.inner.step(fence));
    if (result === null) return { kind: "standby" };
    if (result.kind === "fenced") this.coordinator.fenced(this.lease);
    return result;
  }
}
