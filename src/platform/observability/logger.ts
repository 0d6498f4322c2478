import pino, { type Logger as PinoLogger } from "pino";

/** Structured logger: one JSON object per line on stdout. Components take a child with their own bindings. */
export type Logger = PinoLogger;

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/**
 * The process's root logger. Writes synchronously: a crash or SIGKILL must not
 * lose the lines before it, and tests read process output as it comes.
 */
export function createLogger(role: string, level: LogLevel = "info"): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, role },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The logger never prints credentials, whatever a caller passes along.
      redact: { paths: ["authorization", "*.authorization", "password", "*.password", "secret", "*.secret"], censor: "***" },
    },
    pino.destination({ fd: 1, sync: true }),
  );
}

/** For tests and tools that need a logger and want no output. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** For tests that assert what was logged: each line's message is pushed to `lines`. */
export function capturingLogger(lines: string[]): Logger {
  return pino({ level: "trace" }, { write: (json: string) => void lines.push((JSON.parse(json) as { msg: string }).msg) });
}
