import { createHmac } from "node:crypto";
import { SignJWT } from "jose";

/** The HS256 key test systems run with (AUTH_MODE=jwt); at least 32 characters, as config.ts requires. */
export const TEST_JWT_SECRET = "eventline-test-secret-0123456789abcdef";

/** Environment that turns access control on for `startSystem`/`spawnRole`. */
export const JWT_ENV = { AUTH_MODE: "jwt", AUTH_JWT_SECRET: TEST_JWT_SECRET } as const;

/** Issuer and audience for systems that check them (JWT_CLAIMS_ENV); tokens for those need `TEST_CLAIMS`. */
export const TEST_CLAIMS = { issuer: "https://id.eventline.test", audience: "eventline-api" } as const;
export const JWT_CLAIMS_ENV = { ...JWT_ENV, AUTH_JWT_ISSUER: TEST_CLAIMS.issuer, AUTH_JWT_AUDIENCE: TEST_CLAIMS.audience } as const;

/** A signed bearer token for `sub` with the given scopes, e.g. `token("alice", "query command:inventory")`. */
export async function token(
  sub: string,
  scope: string,
  options: { secret?: string; expiresIn?: string | number; algorithm?: "HS256" | "HS512"; issuer?: string; audience?: string | string[] } = {},
): Promise<string> {
  const jwt = new SignJWT({ scope })
    .setProtectedHeader({ alg: options.algorithm ?? "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "10m");
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

/** An HS256 token signed synchronously with the test key, for generated corpora: `claims` as they are (no defaults). */
export function signedToken(claims: Record<string, unknown>, secret: string = TEST_JWT_SECRET): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

export function bearer(jwt: string): { authorization: string } {
  return { authorization: `Bearer ${jwt}` };
}
