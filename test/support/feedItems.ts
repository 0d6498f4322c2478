import { FeedFailure, type FeedItem } from "../../src/platform/subscriptions/feeds";
import type { ChangeNotification } from "../../src/platform/subscriptions/topics";

/** Reads `count` changes from a feed, failing on a feed failure, its end, or after `withinMs`. */
export async function takeChanges(feed: AsyncIterableIterator<FeedItem>, count: number, withinMs = 20_000): Promise<ChangeNotification[]> {
  const changes: ChangeNotification[] = [];
  const deadline = Date.now() + withinMs;
  while (changes.length < count) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), Math.max(0, deadline - Date.now()))));
    const item = await Promise.race([feed.next(), timeout]);
    clearTimeout(timer);
    if (item === "timeout") throw new Error(`heard ${changes.length} of ${count} changes`);
    if (item.done) throw new Error("the feed ended");
    if (item.value instanceof FeedFailure) throw item.value.error;
    changes.push(item.value);
  }
  return changes;
}
