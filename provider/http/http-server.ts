// The provider's HTTP API server: HTTPS when given a certificate, plain HTTP
// otherwise (loopback tests and the daemon's embedded development provider).
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { accountRoutes } from "./routes-accounts";
import { eventRoutes } from "./routes-events";
import { mailRoutes } from "./routes-mail";
import { syncRoutes } from "./routes-sync";
import { createRequestHandler, type HttpContext } from "./router";

export function createApiServer(context: HttpContext, tls?: { cert: string; key: string }): Server {
  const routes = [...accountRoutes(context), ...syncRoutes(context), ...mailRoutes(context), ...eventRoutes(context)];
  const handler = createRequestHandler(context, routes);
  const listener = (...args: Parameters<typeof handler>) => void handler(...args);
  return tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, listener) : createHttpServer(listener);
}
