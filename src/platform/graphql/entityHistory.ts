import { readAfter, type RequestContext } from "./context";
import type { DocumentProjection } from "../projection/types";
import { HISTORY } from "../projection/historyProjection";
import { documentTrail, type HistoryPage, pastState } from "../projection/historyReader";
import type { AsOfInput, HistoryPageArgs } from "./historyTypes";
import { parseAsOf } from "../projection/timeTravel";

/**
 * What an entity query does with `waitFor` and `asOf`: the live document, or
 * the document as it was, folded from the history read model. `what` names
 * the entity in a NOT_FOUND error.
 */
export async function readEntity<Doc>(
  ctx: RequestContext,
  projection: DocumentProjection<Doc>,
  what: string,
  id: string,
  options: { waitFor?: string | null; asOf?: AsOfInput | null },
): Promise<Doc | null> {
  if (!options.asOf) {
    await readAfter(ctx, projection.name, options.waitFor);
    return ctx.readModels.get<Doc>(projection.name, id);
  }
  const asOf = parseAsOf(options.asOf); // refuse bad input before waiting for anything
  await readAfter(ctx, HISTORY, options.waitFor);
  return pastState(ctx.readModels, projection, what, id, asOf);
}

/**
 * An entity's audit trail: the events that changed its document, up to the
 * last one the shown view reflects, so a past state lists only its past.
 */
export function auditTrail(
  ctx: RequestContext,
  projection: DocumentProjection<unknown>,
  view: { position: string },
  id: string,
  page: HistoryPageArgs,
): Promise<HistoryPage> {
  return documentTrail(ctx.readModels, projection.name, id, { first: page.first, after: page.after, upToPosition: view.position });
}

export const AS_OF = "The entity as it was at a past point, folded from its history; waitFor then applies to the history.";
export const AUDIT_TRAIL = "The events that changed this entity, with their metadata, oldest first, up to the one this view reflects.";
