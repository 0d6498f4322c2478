/**
 * Which JSON media type a GraphQL reply is sent as, from the request's
 * `Accept`. Apollo Server negotiates its own replies; this mirrors its choice
 * (application/json unless application/graphql-response+json is preferred)
 * so that replies made before Apollo (bad JSON, wrong media type) and the
 * status rules that depend on the media type agree with it.
 */
export const APPLICATION_JSON = "application/json";
export const GRAPHQL_RESPONSE_JSON = "application/graphql-response+json";
export type ResponseMediaType = typeof APPLICATION_JSON | typeof GRAPHQL_RESPONSE_JSON;

interface Range {
  type: string;
  subtype: string;
  q: number;
  order: number;
}

function parseAccept(accept: string): Range[] {
  return accept.split(",").flatMap((part, order) => {
    const [range = "", ...params] = part.trim().split(";");
    const [type, subtype] = range.trim().toLowerCase().split("/");
    if (!type || !subtype) return [];
    const qParam = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    return Number.isFinite(q) ? [{ type, subtype, q, order }] : [];
  });
}

/** The most specific range matching `mediaType` decides its quality (RFC 9110 §12.5.1). */
function match(ranges: Range[], mediaType: string): { q: number; specificity: number; order: number } | null {
  const [type, subtype] = mediaType.split("/");
  let best: { q: number; specificity: number; order: number } | null = null;
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === "*" ? 1 : r.type === "*" && r.subtype === "*" ? 0 : -1;
    if (specificity < 0) continue;
    if (!best || specificity > best.specificity) best = { q: r.q, specificity, order: r.order };
  }
  return best && best.q > 0 ? best : null;
}

/**
 * The media type to answer with, or null when `Accept` allows neither (Apollo
 * answers 406 then). No `Accept` means application/json, as the GraphQL over
 * HTTP spec says for legacy clients; ties go to the range listed first, then to application/json.
 */
export function responseMediaType(accept: string | undefined | null): ResponseMediaType | null {
  if (!accept || !accept.trim()) return APPLICATION_JSON;
  const ranges = parseAccept(accept);
  const json = match(ranges, APPLICATION_JSON);
  const graphql = match(ranges, GRAPHQL_RESPONSE_JSON);
  if (!json || !graphql) return graphql ? GRAPHQL_RESPONSE_JSON : json ? APPLICATION_JSON : null;
  if (graphql.q !== json.q) return graphql.q > json.q ? GRAPHQL_RESPONSE_JSON : APPLICATION_JSON;
  if (graphql.specificity !== json.specificity) return graphql.specificity > json.specificity ? GRAPHQL_RESPONSE_JSON : APPLICATION_JSON;
  return graphql.order < json.order ? GRAPHQL_RESPONSE_JSON : APPLICATION_JSON;
}
