// One bounded HTTP(S) request, for the provider's API, the key directory and
// WKD: a time limit on the whole exchange, a size limit on the answer, an
// optional extra CA (a provider's own CA, or a test CA), and an optional
// mapping of host names to where to connect, so tests reach 127.0.0.1
// without any DNS lookup.
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";

/** Where to connect for a host name; null when that host does not exist. */
export type ConnectTo = (hostname: string) => { host: string; port: number } | null;

export type HttpRequestOptions = {
  method?: "GET" | "PUT" | "POST" | "DELETE";
  headers?: Record<string, string>;
  body?: string;
  /** Trusted CA certificates (PEM) for HTTPS, instead of the system ones. */
  ca?: string;
  connectTo?: ConnectTo;
  timeoutMs: number;
  maxResponseBytes: number;
};

export type HttpResponse = { status: number; body: Buffer };

/** Defaults for fetching keys: a lookup waits at most this long... */
export const KEY_FETCH_TIMEOUT_MS = 10_000;
/** ...and reads at most this much: far above any real set of public keys,
 * small enough that a broken server cannot fill memory. */
export const MAX_KEY_RESPONSE_BYTES = 1024 * 1024;

/** Raised when no HTTP answer came: unknown host, refused, timed out, bad TLS. */
export class HttpUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(`${url}: ${message}`);
    this.name = "HttpUnreachableError";
  }
}

export async function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpResponse> {
  try {
    return await requestOnce(url, options);
  } catch (error) {
    // A kept-alive connection the server closed just as we reused it (its
    // idle timeout, or a close after a 413): the request never reached it.
    if (!(error instanceof StaleConnectionError)) throw error;
    return requestOnce(url, options);
  }
}

/** The server reset a reused keep-alive connection before answering. */
class StaleConnectionError extends HttpUnreachableError {}

function requestOnce(url: string, options: HttpRequestOptions): Promise<HttpResponse> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  if (!secure && target.protocol !== "http:") return Promise.reject(new Error(`not an HTTP URL: ${url}`));
  const defaultPort = secure ? 443 : 80;
  const requested = { host: target.hostname, port: target.port ? Number(target.port) : defaultPort };
  const destination = options.connectTo ? options.connectTo(target.hostname) : requested;
  if (!destination) return Promise.reject(new HttpUnreachableError(url, "ENOTFOUND", `host ${target.hostname} not found`));

  return exchange(url, target, destination, secure, options, false);
}

function exchange(
  url: string,
  target: URL,
  destination: { host: string; port: number },
  secure: boolean,
  options: HttpRequestOptions,
  retried: boolean,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request({
      method: options.method ?? "GET",
      host: destination.host,
      port: destination.port,
      path: `${target.pathname}${target.search}`,
      // The certificate is checked against the URL's host name, wherever the
      // connection goes (SNI carries names only, not IP addresses).
      servername: secure && !isIP(target.hostname) ? target.hostname : undefined,
      ca: options.ca,
      headers: { ...options.headers, host: target.host },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    // "on", not "once": an aborted request may report more than one error,
    // and an error without a listener would crash the daemon.
    request.on("error", (error: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed just as we sent on it
      // (its idle timeout, or ours while this process was busy): the server
      // read nothing, so sending once more on a fresh one is safe.
      if (request.reusedSocket && error.code === "ECONNRESET" && !retried) {
        exchange(url, target, destination, secure, options, true).then(resolve, reject);
        return;
      }
      const timedOut = error.name === "AbortError";
      const Unreachable = error.code === "ECONNRESET" && request.reusedSocket ? StaleConnectionError : HttpUnreachableError;
      reject(new Unreachable(url, timedOut ? "ETIMEDOUT" : error.code, timedOut ? `no answer within ${options.timeoutMs} ms` : error.message));
    });
    request.once("response", (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxResponseBytes) {
          request.destroy(new Error(`answer larger than ${options.maxResponseBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.once("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.on("error", reject);
    });
    request.end(options.body);
  });
}
