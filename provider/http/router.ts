// The HTTP API's routing, bearer authentication, error replies and request
// logs (method, route, status, time: never bodies).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Clock, Limits } from "../options";
import type { SrpServer } from "../srp/srp-server";
import type { AccountStore, User } from "../storage/accounts";
import type { IncomingStore } from "../storage/incoming-store";
import type { KeyDirectoryStore } from "../storage/key-directory";
import type { SyncStore } from "../storage/sync-store";
import { QuotaExceededError } from "../storage/usage";
import type { EventStreams } from "./event-streams";
import { HttpError, sendJson } from "./http-io";

export type HttpContext = {
  domain: string;
  version: string;
  accounts: AccountStore;
  srp: SrpServer;
  sync: SyncStore;
  incoming: IncomingStore;
  keyDirectory: KeyDirectoryStore;
  events: EventStreams;
  clock: Clock;
  limits: Limits;
  log: Logger;
  sessionTtlMs: number;
  authFailureDelayMs: number;
  /** The submission service's port, known once it listens. */
  submissionPort(): number;
  tls: boolean;
};

export type RouteRequest = { req: IncomingMessage; res: ServerResponse; url: URL; match: RegExpExecArray };

type PublicRoute = { method: string; path: RegExp; auth?: false; handle(request: RouteRequest): Promise<void> };
type AuthenticatedRoute = {
  method: string;
  path: RegExp;
  auth: true;
  /** `token`: the session token the request came with. */
  handle(request: RouteRequest & { user: User; token: string }): Promise<void>;
};
export type Route = PublicRoute | AuthenticatedRoute;

export function createRequestHandler(context: HttpContext, routes: readonly Route[]) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://provider");
    let route: Route | undefined;
    let match: RegExpExecArray | null = null;
    for (const candidate of routes) {
      match = candidate.path.exec(url.pathname);
      if (match && candidate.method === req.method) {
        route = candidate;
        break;
      }
    }
    try {
      if (!route || !match) throw new HttpError(404, "no such endpoint");
      if (route.auth) {
        await route.handle({ req, res, url, match, ...authenticate(context, req) });
      } else {
        await route.handle({ req, res, url, match });
      }
    } catch (error) {
      replyWithError(context, res, error);
    } finally {
      context.log.info(
        { event: "http", method: req.method, route: route?.path.source ?? null, status: res.statusCode, ms: Math.round(performance.now() - started) },
        "request",
      );
    }
  };
}

function authenticate(context: HttpContext, req: IncomingMessage): { user: User; token: string } {
  const token = /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(req.headers.authorization ?? "")?.[1];
  const user = token === undefined ? undefined : context.accounts.userForToken(token, context.clock.now());
  if (!user || token === undefined) throw new HttpError(401, "missing, unknown or expired token");
  return { user, token };
}

function replyWithError(context: HttpContext, res: ServerResponse, error: unknown): void {
  const known =
    error instanceof HttpError ? error : error instanceof QuotaExceededError ? new HttpError(507, error.message) : null;
  if (!known) context.log.error({ event: "http-error", err: error instanceof Error ? error.message : String(error) }, "request failed");
  if (res.headersSent) {
    // A streamed response broke off: the client sees a truncated body.
    res.destroy();
    return;
  }
  if (known?.status === 413) res.setHeader("connection", "close");
  sendJson(res, known?.status ?? 500, { error: known?.message ?? "internal error" });
}
