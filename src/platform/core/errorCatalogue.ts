/**
 * The platform's error catalogue: every code the platform and the transports
 * answer with, what it means, its details and whether resending helps. Each
 * service keeps its own catalogue in its errors.ts; docs/errors.md is
 * generated from all of them (`node dist/src/main.js emit-error-docs`).
 */
export interface ErrorSpec {
  /** What happened, for a client developer. */
  readonly meaning: string;
  /** The `extensions` fields beside `code` (the error's details), each with what it holds; a field may be absent when it does not apply. */
  readonly details: Readonly<Record<string, string>>;
  /** Whether sending the same request again, unchanged, may succeed (later). */
  readonly retryable: boolean;
  /** What a client should do about it. */
  readonly advice: string;
}

export type ErrorCatalogue = Readonly<Record<string, ErrorSpec>>;

/** A catalogue's codes as constants, `{ OUT_OF_STOCK: "OUT_OF_STOCK", … }`, so that a code is written once. */
export function codesOf<C extends ErrorCatalogue>(catalogue: C): { readonly [K in keyof C & string]: K } {
  // Object.fromEntries cannot express the mapped type; every key maps to itself by construction.
  return Object.fromEntries(Object.keys(catalogue).map((code) => [code, code])) as { readonly [K in keyof C & string]: K };
}

const RESEND = "Resend the same request (with the same commandId for a mutation) after a short backoff.";

/** Codes of the platform: reads, commands, access, the event store, projections and the HTTP/GraphQL transport. */
export const platformErrors = {
  VALIDATION: {
    meaning: "An argument or input field is malformed or out of range, or a command is not valid in the entity's current state (e.g. more stock than the cap).",
    details: { field: "The argument or input field, e.g. `quantity`, `lines[1].sku`, `waitFor`, `ids[2]`.", value: "The value received (long strings are summarized).", expected: "What would be valid." },
    retryable: false,
    advice: "Fix the named field; the message says what is valid.",
  },
  NOT_FOUND: {
    meaning: "The entity a command or a query needs does not exist (queries of one entity answer null instead, except with asOf).",
    details: { what: "The kind of entity, e.g. `Product`, `Order`, `projection`.", id: "Its key." },
    retryable: false,
    advice: "Check the key, or create the entity first.",
  },
  ALREADY_EXISTS: {
    meaning: "A command would create an entity whose key is taken (a product's SKU, an order id, a customer's account).",
    details: { sku: "The product's SKU, for a product.", orderId: "The order id, for an order.", customerId: "The customer, for an account." },
    retryable: false,
    advice: "Use another key; to make creation safe to resend, give the mutation a commandId instead.",
  },
  INVALID_TRANSITION: {
    meaning: "The entity's state does not allow this change, e.g. shipping a cancelled order, capturing a voided payment, redriving a saga that is not FAILED.",
    details: {
      from: "The entity's current state (`NONE` for a payment that does not exist).",
      to: "The state the command would have moved it to.",
      orderId: "The order, for orders and payments.",
      customerId: "The account, for payments.",
      id: "The saga's stream id, for sagas.",
    },
    retryable: false,
    advice: "Read the entity's current state; the command cannot succeed from it.",
  },
  CONCURRENCY_CONFLICT: {
    meaning: "The entity changed under the command every time it was decided (COMMAND_MAX_ATTEMPTS times): heavy contention on one stream.",
    details: { streamId: "The contended stream.", expected: "The stream version the last attempt expected.", attempts: "Attempts made." },
    retryable: true,
    advice: RESEND,
  },
  IDEMPOTENCY_KEY_REUSED: {
    meaning: "The caller already used this commandId for another command (another type, target or payload). Keys are scoped per caller: another caller's id never collides with yours.",
    details: { commandId: "The reused commandId, as the client sent it." },
    retryable: false,
    advice: "Resend a command with the same commandId only unchanged; give a new command a new commandId.",
  },
  CONSISTENCY_TIMEOUT: {
    meaning: "A read asked to wait for a log position (`waitFor`, the X-Eventline-Wait-For header or `extensions.waitFor`) that its read model did not reach within READ_WAIT_MAX_MS.",
    details: { projection: "The read model that lagged.", position: "The position waited for.", timeoutMs: "How long the read waited." },
    retryable: true,
    advice: "Resend the read later; the write is durable and the read model will catch up.",
  },
  UNAVAILABLE: {
    meaning: "A dependency (PostgreSQL, Redis, a service, the projector) cannot serve now. Nothing was accepted, unless `queued` is true.",
    details: {
      dependency: "What is unavailable, e.g. `PostgreSQL`, `Redis`, `the payments service`.",
      service: "The service a queued command is for.",
      commandId: "The queued command's id: resend with it to get its result.",
      queued: "True when the command is queued and will run once the dependency is back.",
    },
    retryable: true,
    advice: RESEND,
  },
  OVERLOADED: {
    meaning: "The owning service has more commands queued than its bound (COMMAND_MAX_QUEUED): this new command was refused, not queued, so that those accepted run in time. Commands already queued (a resend with their commandId) are never refused.",
    details: {
      service: "The overloaded service.",
      queued: "Commands it had queued when this one came.",
      max: "The bound (COMMAND_MAX_QUEUED).",
      retryAfterMs: "How long to wait before resending, in milliseconds.",
    },
    retryable: true,
    advice: "Resend the same request (with the same commandId) after retryAfterMs, with backoff if refused again.",
  },
  COMMAND_TIMEOUT: {
    meaning: "The owning service did not answer within COMMAND_TIMEOUT_MS. The command stays queued and runs when the service is back.",
    details: { service: "The service that did not answer.", commandId: "The command's id.", timeoutMs: "How long the caller waited." },
    retryable: true,
    advice: "Resend with the same commandId: it joins the queued command or returns its result, never runs it twice.",
  },
  UNAUTHENTICATED: {
    meaning: "No bearer token, or one that is not valid (expired, bad signature, malformed); the message says which.",
    details: { scope: "The scopes (space-separated, any one) the operation needs." },
    retryable: false,
    advice: "Send `Authorization: Bearer <token>` (connectionParams.authorization over WebSocket) with a valid token.",
  },
  FORBIDDEN: {
    meaning: "The token is valid but has none of the scopes the operation needs.",
    details: { scope: "The scopes (space-separated, any one) the operation needs.", subject: "The token's subject." },
    retryable: false,
    advice: "Use a token with one of the named scopes.",
  },
  TOO_MANY_SUBSCRIPTIONS: {
    meaning: "The WebSocket, or the token across its sockets, already holds as many operations as WS_MAX_SUBSCRIPTIONS_PER_SOCKET / WS_MAX_SUBSCRIPTIONS_PER_TOKEN allow. The socket stays open.",
    details: { limit: "The variable that refused it.", max: "Its value." },
    retryable: true,
    advice: "Complete a subscription you no longer need, then subscribe again.",
  },
  INVALID_EVENT: {
    meaning: "An event does not match its registered schema: a bug in the code that produced it. Nothing of the batch was written.",
    details: { type: "The event type.", schemaVersion: "The version it was checked against.", errors: "Each problem, e.g. `/quantity must be integer`." },
    retryable: false,
    advice: "Report it: it is a server bug, not a client mistake.",
  },
  REBUILD_IN_PROGRESS: {
    meaning: "A rebuild of this projection is already running; one runs at a time.",
    details: { projection: "The projection." },
    retryable: true,
    advice: "Watch projectionStatus until the running rebuild is done, then start another if still needed.",
  },
  PROJECTION_EVENT_FAILED: {
    meaning: "A projection's code threw on an event; after PROJECTOR_MAX_EVENT_ATTEMPTS the event is parked. Seen by operators (projectionStatus, retryParkedEvent), not by reads.",
    details: { projection: "The projection.", eventId: "The event.", attempts: "Attempts so far.", maxAttempts: "Attempts before it is parked." },
    retryable: false,
    advice: "Fix the projection, then retryParkedEvent (or skipParkedEvent).",
  },
  SEGMENT_MISROUTED: {
    meaning: "A segment of a projection was about to write a document that routes to another segment: the projection's routing does not send an event where its documents live. Nothing of the batch was written; the segment stops until the definition is fixed.",
    details: { projection: "The projection.", id: "The document.", segment: "The segment that applied the event.", documentSegment: "The segment the document routes to.", eventId: "The event." },
    retryable: false,
    advice: "Fix the projection's `routing` (or run it as one segment), then rebuild it.",
  },
  INTERNAL: {
    meaning: "An unexpected server fault; the details are in the server's log, never in the response.",
    details: {},
    retryable: false,
    advice: "Report it with the time of the request; resending may or may not help.",
  },
  // The transport's codes: GraphQL's, Apollo Server's and the HTTP layer's own.
  GRAPHQL_PARSE_FAILED: {
    meaning: "The document is not valid GraphQL syntax, or has more tokens than MAX_QUERY_TOKENS.",
    details: {},
    retryable: false,
    advice: "Fix the document.",
  },
  GRAPHQL_VALIDATION_FAILED: {
    meaning: "The document does not match the schema, or exceeds a limit (depth, aliases, cost, directives).",
    details: { limit: "For a limit: its variable, e.g. `MAX_QUERY_DEPTH`.", max: "For a limit: its value." },
    retryable: false,
    advice: "Fix the document, or split it under the named limit.",
  },
  BAD_USER_INPUT: {
    meaning: "A variable does not match its declared type, or an argument literal is invalid (e.g. a malformed DateTime).",
    details: {},
    retryable: false,
    advice: "Fix the variables.",
  },
  BAD_REQUEST: {
    meaning: "The HTTP request is malformed (e.g. a body that is not JSON, a subscription over HTTP, a missing query).",
    details: {},
    retryable: false,
    advice: "Fix the request; subscriptions go over WebSocket (graphql-ws).",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    meaning: "A POST whose Content-Type is not application/json (HTTP 415).",
    details: {},
    retryable: false,
    advice: "Send `Content-Type: application/json`.",
  },
  PAYLOAD_TOO_LARGE: {
    meaning: "The request body (or WebSocket message) is larger than MAX_BODY_BYTES (HTTP 413).",
    details: {},
    retryable: false,
    advice: "Send a smaller request.",
  },
  PERSISTED_QUERY_NOT_FOUND: {
    meaning: "Apollo Server's automatic persisted queries: the hash is not known yet.",
    details: {},
    retryable: true,
    advice: "Resend with the full query (Apollo Client's persisted-queries link does this by itself).",
  },
  PERSISTED_QUERY_HASH_MISMATCH: {
    meaning: "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of the query sent with it (HTTP 400).",
    details: {},
    retryable: false,
    advice: "Send the lowercase hex SHA-256 of the exact query text, or no hash.",
  },
  PERSISTED_QUERY_NOT_SUPPORTED: {
    meaning: "Apollo Server's automatic persisted queries are turned off.",
    details: {},
    retryable: false,
    advice: "Send the full query.",
  },
  RESUME_WINDOW_EXCEEDED: {
    meaning: "A subscription's `after` is older than the change log keeps (SUBSCRIPTION_REPLAY_BATCHES batches per read model), so the changes since then cannot be replayed.",
    details: { after: "The position the subscription asked to resume after.", oldest: "The oldest position it can resume after." },
    retryable: false,
    advice: "Refetch the data with a query, then subscribe again with `after` set to `oldest` or later (or without `after`).",
  },
  OPERATION_RESOLUTION_FAILURE: {
    meaning: "The document has several operations and `operationName` names none of them (or is missing).",
    details: {},
    retryable: false,
    advice: "Set operationName.",
  },
} as const satisfies ErrorCatalogue;
