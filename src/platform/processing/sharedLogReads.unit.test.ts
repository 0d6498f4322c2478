import { LOG_START, type LogPosition } from "../eventstore/logPosition";
import type { ReadAllResult } from "../eventstore/types";
import { SharedLogReads } from "./sharedLogReads";

/** A log whose reads the test answers by hand, counting them. */
function heldLog() {
  const pending: Array<{ from: LogPosition; answer: (r: ReadAllResult) => void; fail: (e: Error) => void }> = [];
  const reads = new SharedLogReads(
    (from) =>
      new Promise<ReadAllResult>((answer, fail) => {
        pending.push({ from, answer, fail });
      }),
  );
  return { reads, pending };
}

const at = (n: number): LogPosition => ({ transactionId: BigInt(n), globalPosition: BigInt(n) });
const batch = (n: number): ReadAllResult => ({ events: [], checkpoint: at(n) });

describe("SharedLogReads", () => {
  it("given two steps that began before a read, when both ask for the same batch, then the log is read once", async () => {
    const { reads, pending } = heldLog();
    const first = reads.mark();
    const second = reads.mark();
    const a = reads.readAll(LOG_START, 500, first);
    const b = reads.readAll(LOG_START, 500, second);
    expect(pending).toHaveLength(1);
    pending[0]!.answer(batch(7));
    expect(await a).toBe(await b);
  });

  it("given a step that began before a read, when it asks after the read has answered, then it still takes that answer", async () => {
    const { reads, pending } = heldLog();
    const first = reads.mark();
    const second = reads.mark();
    const a = reads.readAll(LOG_START, 500, first);
    pending[0]!.answer(batch(7));
    await a;
    expect(await reads.readAll(LOG_START, 500, second)).toEqual(batch(7));
    expect(pending).toHaveLength(1);
  });

  it("given a read already under way, when a step that began after it asks, then the log is read again (the older read may miss what woke the step)", async () => {
    const { reads, pending } = heldLog();
    void reads.readAll(LOG_START, 500, reads.mark());
    const later = reads.mark();
    void reads.readAll(LOG_START, 500, later);
    expect(pending).toHaveLength(2);
  });

  it("given steps at different checkpoints or batch sizes, when they ask, then each batch is its own read", () => {
    const { reads, pending } = heldLog();
    const since = reads.mark();
    void reads.readAll(LOG_START, 500, since);
    void reads.readAll(at(3), 500, since);
    void reads.readAll(LOG_START, 100, since);
    expect(pending.map((p) => p.from)).toEqual([LOG_START, at(3), LOG_START]);
  });

  it("given a read that failed, when a step that began before it asks, then it reads again instead of taking the failure", async () => {
    const { reads, pending } = heldLog();
    const first = reads.mark();
    const second = reads.mark();
    const a = reads.readAll(LOG_START, 500, first);
    pending[0]!.fail(new Error("connection reset"));
    await expect(a).rejects.toThrow("connection reset");
    void reads.readAll(LOG_START, 500, second);
    expect(pending).toHaveLength(2);
  });
});
