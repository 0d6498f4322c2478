import { isRequestContext } from "./context";
import { ValidationError } from "../core/errors";
import { parseLogPosition } from "../eventstore/logPosition";
import type { ChangeNotification } from "../subscriptions/topics";
import { FeedFailure, type FeedItem } from "../subscriptions/feeds";

/** The description of every subscription's `after` argument. */
export const AFTER =
  "Resume: first every change after this log position (a payload's `position`, or a mutation's), in commit order, then live. " +
  "Fails with RESUME_WINDOW_EXCEEDED, extensions.oldest naming the oldest position still replayable, when the change log no longer reaches back that far.";

/** What a subscription's `subscribe` returns: the feed of `topic`, published by `projection`, resumed after `after`. */
export function follow(context: unknown, projection: string, topic: string, after: unknown): Promise<AsyncIterable<FeedItem>> {
  // type-graphql hands `subscribe` the context untyped; only one the api built can open a feed.
  if (!isRequestContext(context)) throw new Error("a subscription was resolved with a context the api did not build");
  return context.subscribe({ projection, topic, after: parseAfter(after) });
}

/** The change a subscription resolver was called with; a failed feed's error is thrown here, so the client gets it with its code. */
export function changeOf<Doc>(root: FeedItem): ChangeNotification<Doc> {
  if (root instanceof FeedFailure) throw root.error;
  // The feed checked the notification's envelope; its document is the projection's own JSON.
  return root as ChangeNotification<Doc>;
}

function parseAfter(after: unknown) {
  if (after === null || after === undefined) return null;
  const position = typeof after === "string" ? parseLogPosition(after) : null;
  if (!position) throw new ValidationError("after", after, "a log position from a subscription payload or a mutation, like '1234.56'");
  return position;
}
