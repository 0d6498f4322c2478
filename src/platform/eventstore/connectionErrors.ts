const CONNECTION_ERROR_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "57P01", "57P03", "08006", "08001", "08003"]);

/** A failure to reach PostgreSQL (as opposed to a statement it refused). */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  if (code && CONNECTION_ERROR_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : "";
  return /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Query read timeout|is not queryable|Client was closed/i.test(message);
}
