import { NotFoundError, ValidationError } from "../core/errors";
import { parseLogPosition } from "../eventstore/logPosition";
import type { RecordedEvent } from "../eventstore/types";
import { MAX_ID_LENGTH, MAX_PAGE_SIZE, type Page, type ReadModelStore } from "./readModelStore";
import type { DocumentProjection } from "./types";
import { HISTORY, historyIndex, type HistoryRecord, positionSortKey, toRecordedEvent } from "./historyProjection";
import { type AsOf, checkVersion, decided, foldAsOf } from "./timeTravel";

export interface HistoryPageRequest {
  first: number;
  after?: string | null;
  /** Only events up to this log position (inclusive): the trail of a document as a view shows it. */
  upToPosition?: string | null;
}

export interface HistoryPage {
  edges: Array<{ cursor: string; node: HistoryRecord }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/** The events that changed one document of a history-keeping projection, oldest first. */
export function documentTrail(readModels: ReadModelStore, projection: string, id: string, request: HistoryPageRequest): Promise<HistoryPage> {
  checkId("id", id);
  return trail(readModels, historyIndex.document(projection, id), request);
}

/** Every event one request caused, across streams and services, in commit order. */
export function correlationTrail(readModels: ReadModelStore, correlationId: string, request: HistoryPageRequest): Promise<HistoryPage> {
  checkId("id", correlationId);
  return trail(readModels, historyIndex.correlation(correlationId), request);
}

/**
 * A document's events in commit order, as the log recorded them, read a page
 * at a time until `enough` says the rest cannot matter.
 */
export async function documentEvents(
  readModels: ReadModelStore,
  projection: string,
  id: string,
  enough: (events: readonly RecordedEvent[]) => boolean = () => false,
): Promise<RecordedEvent[]> {
  checkId("id", id);
  const events: RecordedEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const page: Page<HistoryRecord> = await readModels.page<HistoryRecord>(HISTORY, historyIndex.document(projection, id), { first: MAX_PAGE_SIZE, after });
    events.push(...page.nodes.map((n) => toRecordedEvent(n.node)));
    if (!page.hasNextPage || enough(events)) return events;
    after = page.endCursor;
  }
}

/**
 * A document as it was at `asOf`, folded from the history read model with the
 * projection's own `evolve`. NOT_FOUND when the document never had an event;
 * null when it did not exist yet at that point. Reads only as far as `asOf`.
 */
export async function pastState<Doc>(
  readModels: ReadModelStore,
  projection: DocumentProjection<Doc>,
  what: string,
  id: string,
  asOf: AsOf,
): Promise<Doc | null> {
  if (!projection.history) throw new Error(`projection ${projection.name} keeps no history; set history: true to fold its past`);
  checkId("id", id);
  const total = await readModels.count(HISTORY, historyIndex.document(projection.name, id));
  if (total === 0) throw new NotFoundError(what, id);
  checkVersion(asOf, total);
  const events = await documentEvents(readModels, projection.name, id, (read) => decided(read, asOf));
  return foldAsOf(projection, id, events, asOf);
}

async function trail(readModels: ReadModelStore, index: string, request: HistoryPageRequest): Promise<HistoryPage> {
  const upTo = request.upToPosition ? sortKeyOf(request.upToPosition) : undefined;
  const [page, totalCount] = await Promise.all([
    readModels.page<HistoryRecord>(HISTORY, index, { first: request.first, after: request.after ?? null, ...(upTo ? { upTo } : {}) }),
    readModels.count(HISTORY, index, upTo),
  ]);
  return { edges: page.nodes, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor }, totalCount };
}

function sortKeyOf(token: string): string {
  const position = parseLogPosition(token);
  if (!position) throw new ValidationError("position", token, "a log position like '1234.56'");
  return positionSortKey(position);
}

function checkId(field: string, id: string): void {
  if (id.length > MAX_ID_LENGTH) throw new ValidationError(field, id, `at most ${MAX_ID_LENGTH} characters`);
}
