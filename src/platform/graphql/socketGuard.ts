import { DomainError, ErrorCode, UnavailableError } from "../core/errors";
import { AuthError, isExpired, type Principal } from "./auth";

/**
 * What one WebSocket may do after its connection_init was accepted: its token
 * is checked again on every operation and the socket is closed when the token
 * expires (HTTP checks on every request; a socket must not outlive its
 * token's rights), and the operations a socket, and a token across all its
 * sockets, may have in flight are bounded.
 */

/** Close code when the token expires: graphql-ws's Forbidden, which its client retries, calling `connectionParams` again. */
export const WS_TOKEN_EXPIRED = 4403;

export class SubscriptionLimitError extends DomainError<"TOO_MANY_SUBSCRIPTIONS"> {}

export interface SocketLimits {
  /** Operations in flight on one socket (WS_MAX_SUBSCRIPTIONS_PER_SOCKET). */
  maxPerSocket: number;
  /** Operations in flight across the sockets opened with one token (WS_MAX_SUBSCRIPTIONS_PER_TOKEN). */
  maxPerToken: number;
}

/** Closes a socket with a code and ends its operations at once (see wsTransport.ts). */
export type EndSocket = (code: number, reason: string) => void;

interface SocketState {
  readonly principal: Principal;
  readonly end: EndSocket;
  /**
   * Operations in flight, by their subscribe payload: graphql-ws hands the same
   * object to onSubscribe and onComplete, whereas an id may be reused before the
   * operation that had it has finished (counting by id would then undercount).
   */
  readonly active: Set<object>;
  timer: NodeJS.Timeout | null;
  closed: boolean;
}

/** setTimeout's longest delay; a token valid for longer is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SocketGuard {
  /** Keyed by graphql-ws's per-socket context object. */
  private readonly sockets = new WeakMap<object, SocketState>();
  private readonly perToken = new Map<string, number>();

  constructor(
    private readonly limits: SocketLimits,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** A socket's connection_init was accepted for `principal`; `end` closes it when its token expires. */
  admit(socket: object, principal: Principal, end: EndSocket): void {
    const state: SocketState = { principal, end, active: new Set(), timer: null, closed: false };
    this.sockets.set(socket, state);
    this.armExpiry(state);
  }

  /**
   * Admits a new operation on `socket`, or says why not: the token has expired
   * (UNAUTHENTICATED, and the socket is closed), the socket is closing, or a
   * limit is reached (TOO_MANY_SUBSCRIPTIONS). An admitted operation counts until `leave`.
   */
  enter(socket: object, operation: object): DomainError | null {
    const state = this.sockets.get(socket);
    if (state && isExpired(state.principal, this.now())) {
      this.expire(state);
      return new AuthError(ErrorCode.UNAUTHENTICATED, "Invalid bearer token (expired): reconnect with a fresh token", { reason: "expired" });
    }
    if (!state || state.closed) return new UnavailableError("This WebSocket connection", "it is closing; open a new one");
    if (state.active.size >= this.limits.maxPerSocket) {
      return limitError("WS_MAX_SUBSCRIPTIONS_PER_SOCKET", this.limits.maxPerSocket, "this connection");
    }
    const token = tokenOf(state.principal);
    if (token !== null && (this.perToken.get(token) ?? 0) >= this.limits.maxPerToken) {
      return limitError("WS_MAX_SUBSCRIPTIONS_PER_TOKEN", this.limits.maxPerToken, "the connections of this token");
    }
    state.active.add(operation);
    if (token !== null) this.perToken.set(token, (this.perToken.get(token) ?? 0) + 1);
    return null;
  }

  /** An admitted operation finished (completed, failed or unsubscribed). Idempotent. */
  leave(socket: object, operation: object): void {
    const state = this.sockets.get(socket);
    if (!state || state.closed || !state.active.delete(operation)) return;
    this.release(state, 1);
  }

  /** The socket is closed: its operations stop counting towards its token. Idempotent. */
  close(socket: object): void {
    const state = this.sockets.get(socket);
    if (state) this.closeState(state);
  }

  /** Operations in flight for a token, across its sockets (for tests and metrics). */
  inFlight(tokenId: string): number {
    return this.perToken.get(tokenId) ?? 0;
  }

  private closeState(state: SocketState): void {
    if (state.closed) return;
    state.closed = true;
    if (state.timer) clearTimeout(state.timer);
    this.release(state, state.active.size);
    state.active.clear();
  }

  private release(state: SocketState, count: number): void {
    const token = tokenOf(state.principal);
    if (token === null || count === 0) return;
    const left = (this.perToken.get(token) ?? 0) - count;
    if (left > 0) this.perToken.set(token, left);
    else this.perToken.delete(token);
  }

  private armExpiry(state: SocketState): void {
    const { principal } = state;
    if (principal.kind !== "token" || principal.expiresAt === null) return;
    const delay = Math.min(Math.max(principal.expiresAt - this.now(), 0), MAX_TIMER_MS);
    state.timer = setTimeout(() => {
      state.timer = null;
      if (state.closed) return;
      if (isExpired(principal, this.now())) this.expire(state);
      else this.armExpiry(state);
    }, delay);
    state.timer.unref(); // never what keeps a process alive
  }

  private expire(state: SocketState): void {
    if (state.closed) return;
    this.closeState(state); // refuses at once whatever else the client sends before it sees the close
    // After the current turn, so that the refusal of the operation that found the token expired goes out first.
    setImmediate(() => state.end(WS_TOKEN_EXPIRED, "Token expired: reconnect with a fresh token"));
  }
}

function tokenOf(principal: Principal): string | null {
  // Dev mode has no tokens: everyone is 'dev', so a per-token bound would be one global bound.
  return principal.kind === "token" ? principal.tokenId : null;
}

function limitError(variable: string, max: number, where: string): SubscriptionLimitError {
  return new SubscriptionLimitError(
    ErrorCode.TOO_MANY_SUBSCRIPTIONS,
    `Too many operations in flight on ${where}: at most ${max} (${variable}); complete one before starting another`,
    { limit: variable, max },
  );
}
