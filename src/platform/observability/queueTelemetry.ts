import type { Telemetry } from "bullmq";

let current: Telemetry | undefined;

/** Set once by tracing at start-up; queues and workers created afterwards carry it. */
export function setQueueTelemetry(telemetry: Telemetry): void {
  current = telemetry;
}

/** BullMQ's `telemetry` option for queues and workers: a span per job, linked to the producer's trace, when tracing is on. */
export function queueTelemetry(): { telemetry?: Telemetry } {
  return current ? { telemetry: current } : {};
}
