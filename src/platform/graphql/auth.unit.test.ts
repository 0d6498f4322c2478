import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SignJWT } from "jose";
import { AuthError, devAuthenticator, jwtAuthenticator, type Principal, requireScope } from "./auth";

const SECRET = "unit-test-secret-of-at-least-32-chars";
const sign = (claims: Record<string, unknown>, secret = SECRET, alg = "HS256", expires: string | number = "5m") => {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg }).setIssuedAt().setExpirationTime(expires);
  return jwt.sign(new TextEncoder().encode(secret));
};
const auth = jwtAuthenticator(SECRET);

const refusal = (principal: Principal, scope: string) => {
  try {
    requireScope(principal, [scope]);
    return null;
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    return { code: error.code, message: error.message };
  }
};

it("a valid token gives its subject and scopes", async () => {
  const principal = await auth.authenticate(`Bearer ${await sign({ sub: "alice", scope: "query command:inventory" })}`);
  expect(principal).toEqual({ kind: "token", subject: "alice", scopes: new Set(["query", "command:inventory"]) });
  expect(refusal(principal, "query")).toBeNull();
  expect(refusal(principal, "command:inventory")).toBeNull();
  expect(refusal(principal, "command:payments")).toEqual({
    code: "FORBIDDEN",
    message: "Forbidden: this needs scope 'command:payments'; the token of 'alice' has 'query', 'command:inventory'",
  });
});

it("no token is anonymous: UNAUTHENTICATED, naming the scope needed", async () => {
  for (const missing of [undefined, null, ""]) {
    const principal = await auth.authenticate(missing);
    expect(principal.kind).toBe("anonymous");
    expect(refusal(principal, "admin")).toEqual({ code: "UNAUTHENTICATED", message: expect.stringContaining("scope 'admin'") });
  }
});

it("a bad token is invalid, with the reason", async () => {
  const reasons = async (authorization: unknown) => {
    const principal = await auth.authenticate(authorization);
    return principal.kind === "invalid" ? principal.reason : principal.kind;
  };
  expect(await reasons("Basic abc")).toBe("expected 'Bearer <token>'");
  expect(await reasons(42)).toBe("expected 'Bearer <token>'");
  expect(await reasons("Bearer nonsense")).toBe("malformed");
  expect(await reasons(`Bearer ${await sign({ sub: "a" }, "another-secret-of-at-least-32-chars!")}`)).toBe("bad signature");
  expect(await reasons(`Bearer ${await sign({ sub: "a" }, SECRET, "HS512")}`)).toBe("only HS256 is accepted");
  expect(await reasons(`Bearer ${await sign({ scope: "query" })}`)).toBe("claim 'sub' missing");
  expect(await reasons(`Bearer ${await sign({ sub: "a", scope: ["query"] })}`)).toBe("'scope' must be a space-separated string");
  expect(await reasons(`Bearer ${await sign({ sub: "a" }, SECRET, "HS256", Math.floor(Date.now() / 1000) - 60)}`)).toBe("expired");
  const principal = await auth.authenticate("Bearer nonsense");
  expect(refusal(principal, "query")).toEqual({ code: "UNAUTHENTICATED", message: "Invalid bearer token (malformed); scope 'query' is needed" });
});

it("dev mode allows everything as 'dev'", async () => {
  const principal = await devAuthenticator.authenticate(undefined);
  expect(principal.subject).toBe("dev");
  for (const scope of ["query", "admin", "command:inventory"]) expect(refusal(principal, scope)).toBeNull();
});

it("README's token recipe makes a token this server accepts", async () => {
  const root = resolve(__dirname, "../../..");
  const readme = readFileSync(resolve(root, "README.md"), "utf8");
  const script = /^node -e '([\s\S]*?)'$/m.exec(readme)?.[1];
  expect(script).toBeDefined();
  const run = spawnSync(process.execPath, ["-e", script!], { cwd: root, encoding: "utf8", env: { ...process.env, AUTH_JWT_SECRET: SECRET } });
  expect(run.stderr).toBe("");
  const principal = await auth.authenticate(`Bearer ${run.stdout.trim()}`);
  expect(principal).toEqual({ kind: "token", subject: "alice", scopes: new Set(["query", "command:inventory"]) });
});
