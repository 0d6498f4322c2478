import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from "graphql";

/**
 * Subscriptions whose events are executed once for all the subscribers that
 * would get the same result (decision 0029). graphql-js's `subscribe` runs the
 * selection set once per event per subscriber; with a thousand subscribers of
 * one topic, that was most of the api's CPU per delivery. The feeds hand every
 * subscriber of a channel the same event object, so the result of one
 * execution is kept with that object (a WeakMap: it goes when the event does)
 * under a key that names everything else the result depends on: document,
 * operation, variables and the caller as resolvers see it (`keyOf`, null to
 * never share). Subscription resolvers must therefore be functions of the
 * event, their arguments and the caller, which they are (they map a change
 * notification to its fields).
 */
export function sharedSubscribe(keyOf: (args: ExecutionArgs) => string | null) {
  const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
  return async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return stream; // the subscribe resolver failed: its errors
    const key = keyOf(args);
    return mapEvents(stream, (event) => {
      if (key === null || typeof event !== "object" || event === null) return execute({ ...args, rootValue: event });
      let byKey = results.get(event);
      if (!byKey) results.set(event, (byKey = new Map()));
      let result = byKey.get(key);
      if (!result) byKey.set(key, (result = execute({ ...args, rootValue: event })));
      return result;
    });
  };
}

/** graphql-js's mapAsyncIterator, in short: each event through `map`; ending the result ends the source. */
function mapEvents<T, R>(source: AsyncIterable<T>, map: (event: T) => R | Promise<R>): AsyncIterableIterator<R> {
  const events = source[Symbol.asyncIterator]();
  const end = async (): Promise<IteratorResult<R>> => {
    await events.return?.();
    return { done: true, value: undefined };
  };
  const mapped: AsyncIterableIterator<R> = {
    async next() {
      const next = await events.next();
      return next.done ? { done: true, value: undefined } : { done: false, value: await map(next.value) };
    },
    return: end,
    async throw(error?: unknown) {
      await end();
      throw error;
    },
    [Symbol.asyncIterator]: () => mapped,
  };
  return mapped;
}
