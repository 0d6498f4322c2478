import { createHash } from "node:crypto";
import { errors as joseErrors, jwtVerify } from "jose";
import type { AuthChecker } from "type-graphql";
import { DomainError, ErrorCode } from "../core/errors";
import { isReservedActor, RESERVED_ACTORS_DESCRIPTION } from "./reservedActors";

/**
 * Access control: who is calling (a Principal, from a bearer token) and what
 * they may do (scopes). Commands and queries are secured separately:
 *
 *   command:<service>  the mutations of that service (inventory, ordering, payments)
 *   query              queries and subscriptions
 *   admin              operator commands (saga redrive)
 *
 * Resolvers declare the scope they need with type-graphql's `@Authorized(scope)`;
 * `requireScope` below is the one place that decides, for HTTP and WebSocket alike.
 */
export const Scope = {
  query: "query",
  admin: "admin",
  command: (service: string) => `command:${service}`,
} as const;

export type Principal =
  /** AUTH_MODE=dev: no tokens, everything allowed. */
  | { readonly kind: "dev"; readonly subject: string }
  /** No Authorization header / connectionParams.authorization. */
  | { readonly kind: "anonymous"; readonly subject: string }
  /** A token was sent but is not valid; `reason` says why. */
  | { readonly kind: "invalid"; readonly subject: string; readonly reason: string }
  | {
      readonly kind: "token";
      readonly subject: string;
      readonly scopes: ReadonlySet<string>;
      /** The token's `exp` in ms since the epoch; null when it has none. Checked again on every use (an open WebSocket outlives it). */
      readonly expiresAt: number | null;
      /** Identifies this very token (a hash of it), for limits that hold across the sockets it opens. */
      readonly tokenId: string;
    };

export const DEV_PRINCIPAL: Principal = { kind: "dev", subject: "dev" };

/**
 * What resolvers can tell apart of a caller: kind, subject, scopes, expiry
 * (not which of its tokens it used). Callers with the same key get the same
 * answers, which lets subscription events be executed once for all of them.
 */
export function principalKey(principal: Principal): string {
  switch (principal.kind) {
    case "token":
      return JSON.stringify([principal.kind, principal.subject, [...principal.scopes].sort(), principal.expiresAt]);
    case "invalid":
      return JSON.stringify([principal.kind, principal.subject, principal.reason]);
    default:
      return JSON.stringify([principal.kind, principal.subject]);
  }
}
const ANONYMOUS: Principal = { kind: "anonymous", subject: "anonymous" };

export class AuthError extends DomainError<"UNAUTHENTICATED" | "FORBIDDEN"> {}

/** Throws UNAUTHENTICATED (no or bad token) or FORBIDDEN (no such scope); the message names the scope needed. */
export function requireScope(principal: Principal, scopes: readonly string[]): void {
  const needed = scopes.map((s) => `'${s}'`).join(" or ");
  switch (principal.kind) {
    case "dev":
      return;
    case "anonymous":
      throw new AuthError(
        ErrorCode.UNAUTHENTICATED,
        `Authentication required: send a bearer token ('Authorization: Bearer <token>') with scope ${needed}`,
        { scope: scopes.join(" ") },
      );
    case "invalid":
      throw new AuthError(ErrorCode.UNAUTHENTICATED, `Invalid bearer token (${principal.reason}); scope ${needed} is needed`, {
        scope: scopes.join(" "),
      });
    case "token":
      if (isExpired(principal)) {
        throw new AuthError(ErrorCode.UNAUTHENTICATED, `Invalid bearer token (expired); scope ${needed} is needed`, { scope: scopes.join(" ") });
      }
      if (scopes.some((s) => principal.scopes.has(s))) return;
      throw new AuthError(
        ErrorCode.FORBIDDEN,
        `Forbidden: this needs scope ${needed}; the token of '${principal.subject}' has ${
          principal.scopes.size ? [...principal.scopes].map((s) => `'${s}'`).join(", ") : "no scopes"
        }`,
        { scope: scopes.join(" "), subject: principal.subject },
      );
    default: {
      const never: never = principal;
      throw new Error(`unknown principal ${String(never)}`);
    }
  }
}

/** Whether a token's `exp` has passed: jose's rule (valid while now < exp), so HTTP and WebSocket agree to the second. */
export function isExpired(principal: Principal, now: number = Date.now()): boolean {
  return principal.kind === "token" && principal.expiresAt !== null && now >= principal.expiresAt;
}

/** type-graphql's hook for `@Authorized(scope)`: any one of the listed scopes grants access. */
export const authChecker: AuthChecker<{ principal: Principal }> = ({ context }, scopes) => {
  requireScope(context.principal, scopes);
  return true;
};

export interface Authenticator {
  readonly mode: "dev" | "jwt";
  /** The caller behind an `Authorization` value ("Bearer <jwt>"); never throws. */
  authenticate(authorization: unknown): Promise<Principal>;
}

export const devAuthenticator: Authenticator = { mode: "dev", authenticate: async () => DEV_PRINCIPAL };

const SUBJECT = /^[\x21-\x7e]{1,200}$/;

export interface JwtOptions {
  /** When set, `iss` must equal it (AUTH_JWT_ISSUER). */
  issuer?: string | undefined;
  /** When set, `aud` must name it (AUTH_JWT_AUDIENCE): a token minted for another service is no good here. */
  audience?: string | undefined;
}

/**
 * Verifies HS256-signed JWTs: `sub` is the acting subject, `scope` the space-separated scopes.
 * Issuer and audience are checked when configured; a `sub` the system uses for itself is refused.
 */
export function jwtAuthenticator(secret: string, options: JwtOptions = {}): Authenticator {
  const key = new TextEncoder().encode(secret);
  const verifyOptions = {
    algorithms: ["HS256"],
    requiredClaims: ["sub"],
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  return {
    mode: "jwt",
    async authenticate(authorization) {
      if (authorization === undefined || authorization === null || authorization === "") return ANONYMOUS;
      const match = typeof authorization === "string" ? /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization) : null;
      if (!match) return invalid("expected 'Bearer <token>'");
      try {
        const { payload } = await jwtVerify(match[1]!, key, verifyOptions);
        if (typeof payload.sub !== "string" || !SUBJECT.test(payload.sub)) return invalid("'sub' must be 1-200 printable characters");
        if (isReservedActor(payload.sub)) return invalid(`'sub' '${payload.sub}' is reserved for the system (${RESERVED_ACTORS_DESCRIPTION})`);
        if (payload.scope !== undefined && typeof payload.scope !== "string") return invalid("'scope' must be a space-separated string");
        const scopes = new Set((payload.scope ?? "").split(" ").filter(Boolean));
        const expiresAt = typeof payload.exp === "number" ? payload.exp * 1000 : null;
        const tokenId = createHash("sha256").update(match[1]!).digest("base64url");
        return { kind: "token", subject: payload.sub, scopes, expiresAt, tokenId };
      } catch (error) {
        return invalid(reasonOf(error, options));
      }
    },
  };
}

function invalid(reason: string): Principal {
  return { kind: "invalid", subject: "anonymous", reason };
}

function reasonOf(error: unknown, options: JwtOptions): string {
  if (error instanceof joseErrors.JWTExpired) return "expired";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "bad signature";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    // Issuer and audience are not secrets; naming them tells a caller which token to fetch.
    if (error.claim === "iss") return `claim 'iss' must be '${options.issuer}'`;
    if (error.claim === "aud") return `claim 'aud' must include '${options.audience}'`;
    return `claim '${error.claim}' ${error.reason}`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "only HS256 is accepted";
  return "malformed";
}
