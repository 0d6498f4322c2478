import { inCommitOrder } from "./inCommitOrder";

const change = (id: string, position: string, projection = "orders") => ({ projection, id, position });

async function* source<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("inCommitOrder", () => {
  it("drops a document's changes that are not newer than the last one passed on", async () => {
    const replayed = [change("a", "10.1"), change("a", "11.2"), change("a", "10.1"), change("a", "11.2"), change("a", "12.3")];
    expect((await drain(inCommitOrder(source(replayed)))).map((c) => c.position)).toEqual(["10.1", "11.2", "12.3"]);
  });

  it("orders by transaction first, then by position within it", async () => {
    const changes = [change("a", "9.100"), change("a", "10.5"), change("a", "9.200")];
    expect((await drain(inCommitOrder(source(changes)))).map((c) => c.position)).toEqual(["9.100", "10.5"]);
  });

  it("keeps documents and projections apart", async () => {
    const changes = [change("a", "10.1"), change("b", "9.1"), change("a", "9.5", "dashboard")];
    expect(await drain(inCommitOrder(source(changes)))).toHaveLength(3);
  });

  it("passes on values that are not change notifications", async () => {
    expect(await drain(inCommitOrder(source([{ hello: 1 }, { hello: 1 }])))).toHaveLength(2);
  });

  it("closes its source at once when the subscriber leaves", async () => {
    let closed = false;
    const pending: AsyncIterable<unknown> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise(() => undefined), // nothing ever arrives
        return: async () => {
          closed = true;
          return { done: true, value: undefined };
        },
      }),
    };
    const ordered = inCommitOrder(pending);
    void ordered.next();
    await ordered.return!();
    expect(closed).toBe(true);
  });
});
