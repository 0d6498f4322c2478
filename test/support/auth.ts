import { SignJWT } from "jose";

/** The HS256 key test systems run with (AUTH_MODE=jwt); at least 32 characters, as config.ts requires. */
export const TEST_JWT_SECRET = "eventline-test-secret-0123456789abcdef";

/** Environment that turns access control on for `startSystem`/`spawnRole`. */
export const JWT_ENV = { AUTH_MODE: "jwt", AUTH_JWT_SECRET: TEST_JWT_SECRET } as const;

/** A signed bearer token for `sub` with the given scopes, e.g. `token("alice", "query command:inventory")`. */
export async function token(
  sub: string,
  scope: string,
  options: { secret?: string; expiresIn?: string | number; algorithm?: "HS256" | "HS512" } = {},
): Promise<string> {
  const jwt = new SignJWT({ scope })
    .setProtectedHeader({ alg: options.algorithm ?? "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "10m");
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

export function bearer(jwt: string): { authorization: string } {
  return { authorization: `Bearer ${jwt}` };
}
