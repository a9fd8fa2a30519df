// The submission service: the user's daemon hands over outgoing mail here,
// logged in with its session token (AUTH PLAIN or LOGIN: username or
// address, and the token). Mail for this domain goes through the MX's
// checks and delivery (no network hop); mail for other domains is queued for
// the relay worker, in the same transaction.
import type { Logger } from "pino";
import { SMTPServer } from "smtp-server";
import type { LocalDelivery, LocalRecipient } from "../mx/local-delivery";
import { answer, baseSmtpOptions, declaredSize, readMessage, Transactions } from "../mx/smtp-common";
import { smtpRefusal } from "../mx/smtp-reply";
import type { Clock } from "../options";
import type { AccountStore } from "../storage/accounts";
import type { RelayQueue } from "../storage/relay-queue";
import type { RelayWorker } from "./relay-worker";

type Envelope = { local: LocalRecipient[]; remote: string[] };

export function createSubmissionServer(options: {
  delivery: LocalDelivery;
  accounts: AccountStore;
  queue: RelayQueue;
  worker: RelayWorker;
  maxMessageBytes: number;
  tls: { cert: string; key: string } | undefined;
  authFailureDelayMs: number;
  clock: Clock;
  log: Logger;
}): SMTPServer {
  const { delivery, accounts, queue, worker, clock, log } = options;
  const domain = delivery.domain;
  const envelopes = new Transactions<Envelope>(() => ({ local: [], remote: [] }));

  const userOf = (session: { user?: string }) => {
    const user = session.user === undefined ? undefined : accounts.userByName(session.user);
    if (!user) throw smtpRefusal(530, "5.7.0 Authentication required");
    return user;
  };

  return new SMTPServer({
    ...baseSmtpOptions(domain, options.maxMessageBytes, options.tls),
    banner: "Bitmask provider submission",
    authMethods: ["PLAIN", "LOGIN"],
    // Tokens in the clear only where there is no TLS to offer: loopback
    // tests and the embedded development provider.
    allowInsecureAuth: !options.tls,
    onAuth: answerAuth(log, async (auth) => {
      const username = (auth.username ?? "").toLowerCase().replace(new RegExp(`@${escapeRegExp(domain)}$`), "");
      const user = auth.password ? accounts.userForToken(auth.password, clock.now()) : undefined;
      if (!user || user.username !== username) {
        await new Promise((resolve) => clock.setTimeout(() => resolve(undefined), options.authFailureDelayMs));
        throw smtpRefusal(535, "5.7.8 Authentication failed");
      }
      return user.username;
    }),
    onMailFrom: answer(log, async (address, session) => {
      const user = userOf(session);
      if (address.address.toLowerCase() !== `${user.username}@${domain}`) {
        throw smtpRefusal(553, `5.7.1 Sender must be ${user.username}@${domain}`);
      }
      envelopes.begin(session);
      return undefined;
    }),
    onRcptTo: answer(log, async (address, session) => {
      userOf(session);
      const envelope = envelopes.get(session);
      if (delivery.isLocal(address.address)) {
        const checked = delivery.check(address.address, declaredSize(session));
        if (checked instanceof Error) throw checked;
        envelope.local.push(checked);
      } else if (worker.hasRoute(address.address)) {
        envelope.remote.push(address.address);
      } else {
        throw smtpRefusal(550, "5.1.2 No route to the recipient's domain");
      }
      return undefined;
    }),
    onData: answer(log, async (stream, session) => {
      try {
        const user = userOf(session);
        const raw = await readMessage(stream);
        const { local, remote } = envelopes.get(session);
        const sender = `${user.username}@${domain}`;
        await delivery.deliver(local, raw, () => {
          if (remote.length > 0) queue.enqueue(user.id, sender, remote, raw, clock.now());
        });
        log.info({ event: "submitted", user: user.username, local: local.length, remote: remote.length, bytes: raw.length }, "mail submitted");
        if (remote.length > 0) worker.wake();
        return "2.0.0 Accepted";
      } finally {
        envelopes.end(session);
      }
    }),
    onClose: (session) => envelopes.end(session),
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Like `answer`, for onAuth, whose success value is `{ user }`. */
function answerAuth<A>(log: Logger, handler: (auth: A) => Promise<string>) {
  return (auth: A, _session: unknown, callback: (error: Error | null | undefined, response?: { user: string }) => void) => {
    handler(auth).then(
      (user) => callback(null, { user }),
      (error: unknown) => {
        if (error instanceof Error && "responseCode" in error) return callback(error);
        log.error({ event: "smtp-auth-error", err: String(error) }, "authentication failed unexpectedly");
        callback(smtpRefusal(454, "4.7.0 Temporary authentication failure"));
      },
    );
  };
}
