import { DomainError } from "../core/errors";
import type { LogPosition } from "../eventstore/logPosition";
import { readAfter, type ReadingContext, requestedPositions } from "./context";

/** A context whose waiter records what it was asked to wait for; nothing else is used by readAfter. */
function contextWith(headers: Record<string, string>, extensions: Record<string, unknown>) {
  const waited: string[] = [];
  const ctx: ReadingContext = {
    consistency: {
      waitFor: async (projection: string, position: LogPosition) => void waited.push(`${projection}@${position.transactionId}.${position.globalPosition}`),
    },
    readWaitMaxMs: 10,
    requestedPositions: requestedPositions({ headers, extensions }),
  };
  return { ctx, waited };
}

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, field: error.details["field"] };
  }
  return null;
}

it("waits for the header's or the extension's position like for the argument", async () => {
  const header = contextWith({ "x-eventline-wait-for": "5.7" }, {});
  await readAfter(header.ctx, "products", null);
  expect(header.waited).toEqual(["products@5.7"]);
  const extension = contextWith({}, { waitFor: "6.1" });
  await readAfter(extension.ctx, "orders");
  expect(extension.waited).toEqual(["orders@6.1"]);
});

it("waits for the latest of the argument, the header and the extension", async () => {
  const { ctx, waited } = contextWith({ "x-eventline-wait-for": "5.9" }, { waitFor: "5.2" });
  await readAfter(ctx, "products", "4.99");
  expect(waited).toEqual(["products@5.9"]);
});

it("waits for nothing without a position; empty values are absent", async () => {
  const { ctx, waited } = contextWith({ "x-eventline-wait-for": "" }, { waitFor: null });
  await readAfter(ctx, "products", "");
  expect(waited).toEqual([]);
});

it("refuses a malformed position with VALIDATION naming where it came from", async () => {
  expect(await codeOf(readAfter(contextWith({ "x-eventline-wait-for": "later" }, {}).ctx, "products"))).toEqual({ code: "VALIDATION", field: "X-Eventline-Wait-For header" });
  expect(await codeOf(readAfter(contextWith({}, { waitFor: 42 }).ctx, "products"))).toEqual({ code: "VALIDATION", field: "extensions.waitFor" });
  expect(await codeOf(readAfter(contextWith({}, {}).ctx, "products", "x"))).toEqual({ code: "VALIDATION", field: "waitFor" });
});
