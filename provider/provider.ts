// startProvider: the whole provider in one process (HTTP API, MX,
// submission relay) on one SQLite file. The CLI (main.ts) and the daemon's
// embedded development provider both start it this way.
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo, Server as NetServer } from "node:net";
import type { SMTPServer } from "smtp-server";
import { version } from "../package.json";
import { EventStreams } from "./http/event-streams";
import { createApiServer } from "./http/http-server";
import { LocalDelivery } from "./mx/local-delivery";
import { createMxServer } from "./mx/mx-server";
import { DEFAULT_LIMITS, DEFAULT_RETRY_DELAYS_MS, type ProviderOptions, systemClock } from "./options";
import { RelayWorker } from "./relay/relay-worker";
import { createSubmissionServer } from "./relay/submission-server";
import { SrpServer } from "./srp/srp-server";
import { AccountStore } from "./storage/accounts";
import { ChangeFeed } from "./storage/change-feed";
import { openProviderDatabase } from "./storage/database";
import { IncomingStore } from "./storage/incoming-store";
import { KeyDirectoryStore } from "./storage/key-directory";
import { RelayQueue } from "./storage/relay-queue";
import { SyncStore } from "./storage/sync-store";
import { Usage } from "./storage/usage";

const DEFAULT_SESSION_TTL_MS = 24 * 60 * 60 * 1000;
const DEFAULT_AUTH_FAILURE_DELAY_MS = 1000;

export type RunningProvider = {
  domain: string;
  host: string;
  httpPort: number;
  mxPort: number;
  submissionPort: number;
  /** Base URL of the HTTP API. */
  url: string;
  close(): Promise<void>;
};

export async function startProvider(options: ProviderOptions): Promise<RunningProvider> {
  const domain = options.domain.toLowerCase();
  const host = options.host ?? "127.0.0.1";
  const clock = options.clock ?? systemClock;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const authFailureDelayMs = options.authFailureDelayMs ?? DEFAULT_AUTH_FAILURE_DELAY_MS;
  const log = options.logger;

  const sql = openProviderDatabase(options.dataDir);
  const usage = new Usage(sql, limits.quotaBytes);
  const accounts = new AccountStore(sql);
  const feed = new ChangeFeed();
  const events = new EventStreams(feed, limits, clock, log.child({ service: "events" }));
  const incoming = new IncomingStore(sql, usage, feed);
  const keyDirectory = new KeyDirectoryStore(sql);
  const queue = new RelayQueue(sql);
  const delivery = new LocalDelivery(domain, accounts, keyDirectory, incoming, usage, clock, log.child({ service: "mx" }));
  const worker = new RelayWorker({
    queue,
    routes: new Map(Object.entries(options.routes ?? {}).map(([routeDomain, route]) => [routeDomain.toLowerCase(), route])),
    delivery,
    retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
    clock,
    log: log.child({ service: "relay" }),
  });

  const api = createApiServer(
    {
      domain,
      version,
      accounts,
      srp: new SrpServer(accounts, clock),
      sync: new SyncStore(sql, usage, feed),
      incoming,
      keyDirectory,
      events,
      clock,
      limits,
      log: log.child({ service: "http" }),
      sessionTtlMs: options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
      authFailureDelayMs,
      submissionPort: () => submissionPort,
      tls: Boolean(options.tls),
    },
    options.tls,
  );
  const mx = createMxServer({ delivery, maxMessageBytes: limits.maxMessageBytes, tls: options.tls, log: log.child({ service: "mx" }) });
  const submission = createSubmissionServer({
    delivery,
    accounts,
    queue,
    worker,
    maxMessageBytes: limits.maxMessageBytes,
    tls: options.tls,
    authFailureDelayMs,
    clock,
    log: log.child({ service: "submission" }),
  });

  let submissionPort = 0;
  const listening: (Server | SMTPServer)[] = [];
  let closed: Promise<void> | null = null;
  const close = () => (closed ??= closeAll());
  const closeAll = async () => {
    await worker.stop();
    const serversClosed = listening.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    // Idle keep-alive connections and event streams would hold the HTTP server open.
    events.closeAll();
    api.closeIdleConnections();
    await Promise.all(serversClosed);
    sql.close();
  };
  try {
    const httpPort = await listen(api, options.httpPort, host);
    listening.push(api);
    const mxPort = await listen(mx.server, options.mxPort, host);
    listening.push(mx);
    submissionPort = await listen(submission.server, options.submissionPort, host);
    listening.push(submission);
    // Mail queued before a restart goes out now.
    worker.wake();
    const scheme = options.tls ? "https" : "http";
    const urlHost = host.includes(":") ? `[${host}]` : host;
    log.info({ event: "started", domain, httpPort, mxPort, submissionPort }, "provider started");
    return { domain, host, httpPort, mxPort, submissionPort, url: `${scheme}://${urlHost}:${httpPort}`, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function listen(server: NetServer, port: number, host: string): Promise<number> {
  server.listen(port, host);
  await Promise.race([once(server, "listening"), once(server, "error").then(([error]) => Promise.reject(error as Error))]);
  return (server.address() as AddressInfo).port;
}
