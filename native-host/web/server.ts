// The local web reader: an HTTP server on 127.0.0.1 serving the reader's
// pages (bundled by scripts/web-pages.mjs) and an API that dispatches to the
// control API's mail methods in process, so it reads and changes mail only
// through the mail API, with the same schema checks as the control socket.
//
// Who may talk to it: a browser that redeemed a one-time link (login.ts) for
// an HttpOnly, SameSite=Strict session cookie. Every request must name this
// server in Host (a DNS-rebinding page names its own domain) and, when it
// sends an Origin, this origin; every API call carries the session's CSRF
// token. Pages run under a strict CSP; a message's HTML is served apart, with
// a CSP that blocks scripts and every remote load, into a sandboxed iframe.
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { ControlEvent, ErrorCode } from "../../shared/control-api";
import { dispatch } from "../control/dispatch";
import type { ControlHandlers } from "../control/errors";
import { WebRefusal } from "./errors";
import { EVENT_STREAM_KEEPALIVE_MS, MAX_EVENT_STREAMS, MAX_REQUEST_BODY_BYTES } from "./limits";
import { Logins, type Session, sameSecret } from "./login";

export const DEFAULT_WEB_PORT = 1986;

/** Where a bundled program (dist/bitmaskd.js) finds the pages scripts/build.mjs put beside it. */
export function pagesBesideProgram(): string {
  return path.join(path.dirname(process.argv[1] ?? "."), "web");
}

const SESSION_COOKIE = "bitmask_session";

/** The control methods the reader may call; the rest (accounts, passphrases, keys) stay on the socket. */
const READER_METHODS = new Set([
  "mail.mailboxes",
  "mail.list",
  "mail.get",
  "mail.search",
  "mail.flags",
  "mail.copy",
  "mail.move",
  "mail.delete",
  "mailbox.create",
  "mailbox.rename",
  "mailbox.delete",
  "mail.send",
]);

const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** A message's HTML: no script, nothing remote (tracking images, fonts, CSS
 * imports), inline styles only, in a sandbox with an opaque origin. */
const MESSAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'";

const STATIC_FILES: Record<string, string> = {
  "/": "index.html",
  "/app.js": "app.js",
  "/style.css": "style.css",
};

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

const STATUS_FOR: Partial<Record<ErrorCode, number>> = {
  "bad-request": 400,
  "unknown-method": 404,
  "not-found": 404,
  "no-account": 404,
  locked: 423,
  "too-large": 413,
  unavailable: 503,
};

export type WebServerOptions = {
  /** 127.0.0.1 port; 0 picks a free one. */
  port: number;
  /** The bundled pages (index.html, app.js, style.css). */
  pagesDir: string;
  handlers: ControlHandlers;
  /** Subscribes to the daemon's control events; returns the unsubscribe. */
  subscribe(listener: (event: ControlEvent) => void): () => void;
};

export class WebServer {
  readonly logins = new Logins();
  private readonly server: http.Server;
  /** Open change streams and whose they are: fed from one subscription to the daemon's events. */
  private readonly streams = new Map<http.ServerResponse, Session>();
  private unsubscribe: () => void = () => undefined;
  private port = 0;

  private constructor(private readonly options: WebServerOptions) {
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        const refusal = error instanceof WebRefusal ? error : new WebRefusal(500, (error as Error).message);
        if (response.headersSent) return void response.destroy();
        send(response, refusal.status, "application/json; charset=utf-8", JSON.stringify({ error: { message: refusal.message } }));
      });
    });
  }

  static async listen(options: WebServerOptions): Promise<WebServer> {
    const web = new WebServer(options);
    await new Promise<void>((resolve, reject) => {
      web.server.once("error", reject);
      web.server.listen(options.port, "127.0.0.1", () => {
        web.server.off("error", reject);
        resolve();
      });
    });
    web.port = (web.server.address() as AddressInfo).port;
    web.unsubscribe = options.subscribe((event) => web.relay(event));
    return web;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A link that logs a browser in to `address`'s mail, once. */
  loginLink(address: string): string {
    return `${this.origin}/login?secret=${this.logins.newLink(address)}`;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    for (const stream of this.streams.keys()) stream.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    this.checkHostAndOrigin(request);
    const url = new URL(request.url ?? "/", this.origin);
    if (url.pathname === "/login" && request.method === "GET") return this.logIn(url, response);
    const session = this.logins.session(cookie(request, SESSION_COOKIE));
    if (url.pathname === "/api/call" && request.method === "POST") return this.call(request, response, requireSession(session));
    if (request.method !== "GET") throw new WebRefusal(405, `${request.method} is not allowed here`);
    if (url.pathname === "/api/session") {
      const { address, csrf } = requireSession(session);
      return send(response, 200, "application/json; charset=utf-8", JSON.stringify({ address, csrf }));
    }
    if (url.pathname === "/api/events") return this.stream(response, requireSession(session));
    if (url.pathname === "/message.html") return this.messageHtml(url, response, requireSession(session));
    if (url.pathname === "/part") return this.part(url, response, requireSession(session));
    const file = STATIC_FILES[url.pathname];
    if (!file) throw new WebRefusal(404, `nothing at ${url.pathname}`);
    if (file === "index.html" && !session) return this.loggedOut(response);
    const body = await readFile(path.join(this.options.pagesDir, file));
    send(response, 200, CONTENT_TYPES[path.extname(file)]!, body);
  }

  /** DNS rebinding: a page at attacker.example resolving to 127.0.0.1 still
   * sends Host: attacker.example. A cross-site page sends its own Origin. */
  private checkHostAndOrigin(request: http.IncomingMessage): void {
    const allowed = [`127.0.0.1:${this.port}`, `localhost:${this.port}`];
    if (!allowed.includes(request.headers.host ?? "")) throw new WebRefusal(421, `this server answers only as ${allowed.join(" or ")}`);
    const origin = request.headers.origin;
    if (origin !== undefined && !allowed.some((host) => origin === `http://${host}`)) throw new WebRefusal(403, `requests from ${origin} are refused`);
    // Browsers mark requests a page elsewhere made; a navigation typed or opened from outside is "none".
    const site = request.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin" && site !== "none") throw new WebRefusal(403, `cross-site requests (${site}) are refused`);
  }

  private logIn(url: URL, response: http.ServerResponse): void {
    const session = this.logins.redeem(url.searchParams.get("secret") ?? "");
    if (!session) {
      return send(response, 403, "text/html; charset=utf-8", notice("This log-in link was used already or has expired. Make a new one: bitmaskctl web open"));
    }
    response.setHeader("Set-Cookie", `${SESSION_COOKIE}=${session.id}; HttpOnly; SameSite=Strict; Path=/`);
    response.setHeader("Location", "/");
    send(response, 303, "text/plain; charset=utf-8", "logged in");
  }

  private loggedOut(response: http.ServerResponse): void {
    send(response, 401, "text/html; charset=utf-8", notice("Not logged in. Open a log-in link: bitmaskctl web open, or “Open web mail” in Thunderbird."));
  }

  private async call(request: http.IncomingMessage, response: http.ServerResponse, session: Session): Promise<void> {
    const token = request.headers["x-csrf-token"];
    if (typeof token !== "string" || !sameSecret(token, session.csrf)) throw new WebRefusal(403, "missing or wrong CSRF token");
    let body: unknown;
    try {
      body = JSON.parse((await readBody(request)).toString("utf8"));
    } catch (error) {
      if (error instanceof WebRefusal) throw error;
      throw new WebRefusal(400, "the request body is not JSON");
    }
    const { method, params } = (typeof body === "object" && body !== null ? body : {}) as { method?: unknown; params?: unknown };
    if (typeof method !== "string" || !READER_METHODS.has(method)) throw new WebRefusal(404, `no method ${String(method)} here`);
    // The session's account, whatever the page says.
    const scoped = { ...(typeof params === "object" && params !== null ? params : {}), address: session.address };
    const reply = await dispatch(this.options.handlers, method, scoped);
    const status = "error" in reply ? (STATUS_FOR[reply.error.code] ?? 500) : 200;
    send(response, status, "application/json; charset=utf-8", JSON.stringify(reply));
  }

  /** Server-sent events: the mail API's changes and status changes of the session's account. */
  private stream(response: http.ServerResponse, session: Session): void {
    if (this.streams.size >= MAX_EVENT_STREAMS) throw new WebRefusal(503, "too many open change streams");
    response.writeHead(200, { ...securityHeaders(PAGE_CSP), "Content-Type": "text/event-stream", Connection: "keep-alive" });
    response.write(": change stream\n\n");
    this.streams.set(response, session);
    const keepalive = setInterval(() => response.write(": keepalive\n\n"), EVENT_STREAM_KEEPALIVE_MS);
    response.on("close", () => {
      clearInterval(keepalive);
      this.streams.delete(response);
    });
  }

  private relay(event: ControlEvent): void {
    if (event.event !== "mail-changed" && event.event !== "status-changed") return;
    for (const [response, session] of this.streams) if (event.address === session.address) response.write(`data: ${JSON.stringify(event)}\n\n`);
  }

  private async messageHtml(url: URL, response: http.ServerResponse, session: Session): Promise<void> {
    const reply = await dispatch(this.options.handlers, "mail.get", { address: session.address, ...messageParams(url) });
    if ("error" in reply) throw new WebRefusal(STATUS_FOR[reply.error.code] ?? 500, reply.error.message);
    const html = (reply.result as { html: string | null }).html;
    if (html === null) throw new WebRefusal(404, "this message has no HTML part");
    response.writeHead(200, { ...securityHeaders(MESSAGE_CSP), "Content-Type": "text/html; charset=utf-8" });
    response.end(html);
  }

  /** An attachment, always as a download: never rendered in this origin. */
  private async part(url: URL, response: http.ServerResponse, session: Session): Promise<void> {
    const params = { address: session.address, ...messageParams(url), part: url.searchParams.get("part") ?? "" };
    const reply = await dispatch(this.options.handlers, "mail.part", params);
    if ("error" in reply) throw new WebRefusal(STATUS_FOR[reply.error.code] ?? 500, reply.error.message);
    const { filename, base64 } = reply.result as { filename: string | null; base64: string };
    response.writeHead(200, {
      ...securityHeaders("default-src 'none'; sandbox"),
      "Content-Type": "application/octet-stream",
      "Content-Disposition": `attachment; filename*=UTF-8''${encodeURIComponent(filename ?? "attachment")}`,
    });
    response.end(Buffer.from(base64, "base64"));
  }
}

function requireSession(session: Session | null): Session {
  if (!session) throw new WebRefusal(401, "not logged in: open a log-in link (bitmaskctl web open)");
  return session;
}

function messageParams(url: URL): { mailbox: string; uid: number } {
  return { mailbox: url.searchParams.get("mailbox") ?? "", uid: Number(url.searchParams.get("uid")) };
}

function cookie(request: http.IncomingMessage, name: string): string | undefined {
  for (const pair of (request.headers.cookie ?? "").split(";")) {
    const [key, ...value] = pair.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

function securityHeaders(csp: string): Record<string, string> {
  return {
    "Content-Security-Policy": csp,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
  };
}

function send(response: http.ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  response.writeHead(status, { ...securityHeaders(PAGE_CSP), "Content-Type": contentType });
  response.end(body);
}

function notice(text: string): string {
  const escaped = text.replace(/[&<>]/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[char]!);
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>Bitmask Mail</title><link rel="stylesheet" href="/style.css"><main class="notice"><h1>Bitmask Mail</h1><p>${escaped}</p></main></html>`;
}

/** The body, refused unread when its declared length is over the limit, and
 * cut off when a body without one (chunked) goes over it. */
async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  if (Number(request.headers["content-length"] ?? 0) > MAX_REQUEST_BODY_BYTES) {
    // Read and dropped (no memory), so the client gets the answer and not a reset while it writes.
    request.resume();
    throw new WebRefusal(413, `request body over ${MAX_REQUEST_BODY_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BODY_BYTES) throw new WebRefusal(413, `request body over ${MAX_REQUEST_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
