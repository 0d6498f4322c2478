/** Descriptions of the arguments every service's resolvers share, so the schema says the same thing everywhere. */
export const WAIT_FOR = "Log position from a mutation: answer only once the read model includes it.";
export const COMMAND_ID = "Idempotency key: resending a command with the same id returns the first result.";
