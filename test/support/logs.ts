/** One JSON log line of a process (pino), or a span line of the JSON tracing exporter. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** Every line of a process's output that is a JSON object; other lines (a crash's stderr) are skipped. */
export function jsonLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // a line cut by the end of the buffer
    }
  }
  return lines;
}

/** The base URL of a role's /health, /ready and /metrics, from its start-up line. */
export function telemetryUrlIn(output: string): string | null {
  return /telemetry at (http:\/\/[^\s"]+)\/metrics/.exec(output)?.[1] ?? null;
}
