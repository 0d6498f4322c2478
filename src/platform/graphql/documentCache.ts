import type { DocumentNode, GraphQLError } from "graphql";

export type CheckedDocument = { document: DocumentNode } | { errors: GraphQLError[] };

/**
 * Parse and validation results by document text, for the documents that
 * passed (Apollo keeps such a cache for HTTP; this one serves the fast query
 * path and WebSocket subscribe, where a thousand subscribers send the same
 * document). Validation depends only on the schema and the text, so a kept
 * result is the one `check` would give again. Failures are not kept: they are
 * the caller's to answer, and an attacker's to vary.
 */
export function documentCache(check: (query: string) => CheckedDocument, kept = 1000): (query: string) => CheckedDocument {
  const documents = new Map<string, DocumentNode>();
  return (query) => {
    const known = documents.get(query);
    if (known) return { document: known };
    const checked = check(query);
    if ("document" in checked) {
      for (const oldest of documents.keys()) {
        if (documents.size < kept) break;
        documents.delete(oldest);
      }
      documents.set(query, checked.document);
    }
    return checked;
  };
}
