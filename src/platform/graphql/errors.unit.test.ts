import { errorMessage, isTransient, UnavailableError, ValidationError } from "../core/errors";
import { formatError } from "./errors";

/** What reaches a client never carries a database's (or any dependency's) error text. */
const pgError = Object.assign(new Error("unsupported Unicode escape sequence \\u0000 cannot be converted to text"), { code: "22P05" });

it("an UNAVAILABLE error names the dependency only; its cause is for the logs", () => {
  const error = new UnavailableError("the inventory service", pgError);
  const formatted = formatError({ message: error.message, path: ["restockProduct"] }, error, () => undefined);
  expect(formatted).toEqual({ message: "the inventory service is unavailable", path: ["restockProduct"], extensions: { code: "UNAVAILABLE", dependency: "the inventory service" } });
  expect(JSON.stringify(formatted)).not.toMatch(/Unicode|22P05/);
  expect(errorMessage(error)).toMatch(/unsupported Unicode escape sequence/); // the log still says why
});

it("a plain error (a database's) becomes INTERNAL without its text", () => {
  const logged: string[] = [];
  const formatted = formatError({ message: pgError.message, path: ["defineProduct"] }, pgError, (l) => logged.push(l));
  expect(formatted).toEqual({ message: "Internal server error", path: ["defineProduct"], extensions: { code: "INTERNAL" } });
  expect(logged.join("\n")).toMatch(/Unicode/);
});

it("a refusal for a NUL character is VALIDATION, which no client retries", () => {
  const error = new ValidationError("name", "Tea\u0000", "1-120 characters of text, without NUL characters or unpaired UTF-16 surrogates");
  expect(isTransient(error)).toBe(false);
  expect(error.details).toMatchObject({ field: "name" });
});
