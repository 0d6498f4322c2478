import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SignJWT } from "jose";
import { AuthError, devAuthenticator, isExpired, jwtAuthenticator, type Principal, requireScope } from "./auth";

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
  expect(principal).toMatchObject({ kind: "token", subject: "alice", scopes: new Set(["query", "command:inventory"]) });
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
  expect(principal).toMatchObject({ kind: "token", subject: "alice", scopes: new Set(["query", "command:inventory"]) });
});

describe("claims", () => {
  const reason = async (authenticator: ReturnType<typeof jwtAuthenticator>, jwt: string) => {
    const principal = await authenticator.authenticate(`Bearer ${jwt}`);
    return principal.kind === "invalid" ? principal.reason : principal.kind;
  };

  it("a token carries its expiry and an id of its own, and is refused once expired, wherever it is used", async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const jwt = await sign({ sub: "alice", scope: "query" }, SECRET, "HS256", exp);
    const principal = await auth.authenticate(`Bearer ${jwt}`);
    expect(principal).toMatchObject({ kind: "token", expiresAt: exp * 1000, tokenId: expect.stringMatching(/^[\w-]{43}$/) });
    const other = await auth.authenticate(`Bearer ${await sign({ sub: "alice", scope: "query" }, SECRET, "HS256", exp + 1)}`);
    expect(other.kind === "token" && principal.kind === "token" && other.tokenId !== principal.tokenId).toBe(true);
    expect(isExpired(principal, exp * 1000 - 1)).toBe(false);
    expect(isExpired(principal, exp * 1000)).toBe(true);
    // A principal kept past its expiry (an open WebSocket's) is refused as the same token sent anew would be.
    if (principal.kind !== "token") throw new Error("expected a token principal");
    const kept: Principal = { ...principal, expiresAt: Date.now() - 1 };
    expect(refusal(kept, "query")).toEqual({ code: "UNAUTHENTICATED", message: "Invalid bearer token (expired); scope 'query' is needed" });
  });

  it("issuer and audience are checked when configured, and the reason names what was expected", async () => {
    const strict = jwtAuthenticator(SECRET, { issuer: "https://id.example", audience: "eventline" });
    const ok = await sign({ sub: "alice", scope: "query", iss: "https://id.example", aud: ["other", "eventline"] });
    expect(await reason(strict, ok)).toBe("token");
    expect(await reason(strict, await sign({ sub: "a", iss: "https://evil.example", aud: "eventline" }))).toBe("claim 'iss' must be 'https://id.example'");
    expect(await reason(strict, await sign({ sub: "a", aud: "eventline" }))).toBe("claim 'iss' must be 'https://id.example'");
    expect(await reason(strict, await sign({ sub: "a", iss: "https://id.example", aud: "billing" }))).toBe("claim 'aud' must include 'eventline'");
    expect(await reason(strict, await sign({ sub: "a", iss: "https://id.example" }))).toBe("claim 'aud' must include 'eventline'");
    // Unconfigured, they are not looked at.
    expect(await reason(auth, await sign({ sub: "a", iss: "https://evil.example", aud: "billing" }))).toBe("token");
  });

  it("a subject the system acts as itself is refused", async () => {
    for (const sub of ["dev", "anonymous", "saga:checkout", "saga-runner", "reactor:inventory:orderStock", "Saga:Checkout", "DEV", "bench"]) {
      expect({ sub, reason: await reason(auth, await sign({ sub, scope: "query admin" })) }).toEqual({ sub, reason: expect.stringMatching(/^'sub' '.+' is reserved for the system/) });
    }
    for (const sub of ["alice", "developer", "sagan", "reactor-fan"]) expect(await reason(auth, await sign({ sub, scope: "query" }))).toBe("token");
  });
});
