import { mergeFamilies } from "./queueMetrics";

describe("mergeFamilies", () => {
  it("keeps each family's HELP and TYPE once, with the samples of every queue together", () => {
    const queue = (name: string, waiting: number) =>
      [
        "# HELP bullmq_job_count Number of jobs in the queue by state",
        "# TYPE bullmq_job_count gauge",
        `bullmq_job_count{queue="${name}", state="waiting"} ${waiting}`,
        "# HELP bullmq_job_completed_total Total number of completed jobs",
        "# TYPE bullmq_job_completed_total counter",
        `bullmq_job_completed_total{queue="${name}"} 0`,
      ].join("\n");
    expect(mergeFamilies([queue("a", 1), queue("b", 2)]).split("\n")).toEqual([
      "# HELP bullmq_job_count Number of jobs in the queue by state",
      "# TYPE bullmq_job_count gauge",
      'bullmq_job_count{queue="a", state="waiting"} 1',
      'bullmq_job_count{queue="b", state="waiting"} 2',
      "# HELP bullmq_job_completed_total Total number of completed jobs",
      "# TYPE bullmq_job_completed_total counter",
      'bullmq_job_completed_total{queue="a"} 0',
      'bullmq_job_completed_total{queue="b"} 0',
    ]);
  });
});
