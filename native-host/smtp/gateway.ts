// The local SMTP gateway (smtp-server), loopback only: Thunderbird logs in
// with the account address and the mail token; the gateway signs the
// message with the account's key, encrypts it per recipient when a key is
// found (keymanager), and hands the copies to the Outbox, which relays them
// to the provider or says why not.
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerEnvelope, type SMTPServerSession } from "smtp-server";
import type { Authenticate } from "../auth/authenticator";
import type { KeyManager } from "../keys/keymanager-api";
import {
  CLIENT_IDLE_TIMEOUT_MS,
  CLOSE_TIMEOUT_MS,
  LOGIN_DEADLINE_MS,
  MAX_CLIENTS,
  MAX_SESSIONS_PER_ACCOUNT,
  MAX_UNAUTHENTICATED_CLIENTS,
  MAX_MESSAGE_BYTES,
  MAX_RECIPIENTS,
  MAX_UNAUTHENTICATED_COMMANDS,
} from "./limits";
import type { Outbox, SubmissionOutcome } from "./outbox";
import { SmtpReplyError } from "./smtp-reply";
import { type Recipient, NoEncryptionKeyRefusal, lookUpRecipient, submitMessage } from "./submission";

export const DEFAULT_SMTP_PORT = 2013;

/** The account a login opens, as far as sending needs it. */
export type Sender = {
  address: string;
  keys: KeyManager;
  /** The account's "always encrypt" setting, read at each RCPT. */
  alwaysEncrypt(): boolean;
  outbox: Outbox;
};

export type SmtpEvent =
  | { type: "login"; session: string; username: string }
  | { type: "login-failed"; session: string; username: string }
  | { type: "refused"; session: string; reply: string }
  | { type: "sent"; session: string; encrypted: number; signedOnly: number; outcome: SubmissionOutcome }
  | { type: "error"; session: string; error: unknown };

export type SmtpGatewayHooks = {
  /** Checks a username and mail token; answers the sender, or null after the failure delay. */
  authenticate: Authenticate<Sender>;
  /** Log lines without content: who logged in, what was refused or sent. */
  onEvent?(event: SmtpEvent): void;
};

/** What one mail transaction learned at RCPT time, for DATA. */
type Transaction = { recipients: Recipient[]; refusedForNoKey: string[] };

export class SmtpGateway {
  private readonly server: SMTPServer;
  /** Keyed by smtp-server's envelope object, which it replaces for every
   * transaction (after DATA and on RSET), so state never leaks between them. */
  private readonly transactions = new WeakMap<SMTPServerEnvelope, Transaction>();
  private readonly loginDeadlines = new Map<string, NodeJS.Timeout>();

  constructor(private readonly hooks: SmtpGatewayHooks) {
    this.server = new SMTPServer({
      name: "bitmask.local",
      banner: "Bitmask Mail local gateway",
      authMethods: ["PLAIN", "LOGIN"],
      // Loopback only, so the token crosses no network; TLS here would only
      // make Thunderbird's set-up harder (LEAP made the same choice).
      allowInsecureAuth: true,
      disabledCommands: ["STARTTLS"],
      size: MAX_MESSAGE_BYTES,
      rejectOversized: true,
      maxRecipients: MAX_RECIPIENTS,
      maxClients: MAX_CLIENTS,
      maxAllowedUnauthenticatedCommands: MAX_UNAUTHENTICATED_COMMANDS,
      socketTimeout: CLIENT_IDLE_TIMEOUT_MS,
      closeTimeout: CLOSE_TIMEOUT_MS,
      hidePIPELINING: false,
      hide8BITMIME: false,
      hideSMTPUTF8: false,
      hideENHANCEDSTATUSCODES: false,
      disableReverseLookup: true,
      logger: false,
      onConnect: (session, callback) => {
        this.admit(session);
        callback();
      },
      onClose: (session) => {
        clearTimeout(this.loginDeadlines.get(session.id));
        this.loginDeadlines.delete(session.id);
      },
      onAuth: (auth, session, callback) => {
        const username = auth.username ?? "";
        this.hooks.authenticate(username, auth.password ?? "").then(
          (sender) => {
            this.emit({ type: sender ? "login" : "login-failed", session: session.id, username });
            if (!sender) return callback(new SmtpReplyError(535, "5.7.8", "authentication failed: wrong address or mail token").toServerError());
            const sessions = [...this.server.connections].filter((connection) => connection.session.user === sender).length;
            if (sessions >= MAX_SESSIONS_PER_ACCOUNT) {
              return callback(new SmtpReplyError(454, "4.7.0", `${username} has ${sessions} connections open already`).toServerError());
            }
            clearTimeout(this.loginDeadlines.get(session.id));
            callback(null, { user: sender });
          },
          (error: unknown) => this.fail(session, error, callback),
        );
      },
      onMailFrom: (address, session, callback) => {
        const sender = senderOf(session);
        if (address.address.toLowerCase() === sender.address.toLowerCase()) return callback();
        this.refuse(
          session,
          new SmtpReplyError(
            550,
            "5.7.1",
            `sender <${address.address}> is not the logged-in address <${sender.address}>: mail is signed with that account's key, so it can only be sent from it`,
          ),
          callback,
        );
      },
      onRcptTo: (address, session, callback) => {
        this.checkRecipient(address.address, session).then(
          () => callback(),
          (error: unknown) => this.fail(session, error, callback),
        );
      },
      onData: (stream, session, callback) => {
        this.receive(stream, session).then(
          (reply) => callback(null, reply),
          (error: unknown) => this.fail(session, error, callback),
        );
      },
    });
    this.server.on("error", (error) => this.emit({ type: "error", session: "-", error }));
  }

  /** Listens on 127.0.0.1 (never another interface); port 0 picks a free port. */
  async listen(port = DEFAULT_SMTP_PORT, host = "127.0.0.1"): Promise<number> {
    if (!["127.0.0.1", "::1", "localhost"].includes(host)) throw new Error(`SMTP listens on loopback only, not ${host}`);
    return new Promise<number>((resolve, reject) => {
      this.server.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.server.off("error", reject);
        resolve((this.server.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** A new connection: it has LOGIN_DEADLINE_MS to log in, and when too
   * many are waiting to, the oldest of them goes. */
  private admit(session: SMTPServerSession): void {
    const waiting = [...this.server.connections].filter((connection) => !connection.session.user);
    if (waiting.length > MAX_UNAUTHENTICATED_CLIENTS) dropConnection(waiting[0]!, "too many connections waiting to log in");
    const deadline = setTimeout(() => {
      const connection = [...this.server.connections].find((candidate) => candidate.session === session);
      if (connection && !session.user) dropConnection(connection, `not logged in within ${LOGIN_DEADLINE_MS / 1000} s`);
    }, LOGIN_DEADLINE_MS);
    deadline.unref();
    this.loginDeadlines.set(session.id, deadline);
  }

  /** Looks the recipient's key up now, so DATA has it and the refusal under
   * "always encrypt" names the recipient while the client can still react. */
  private async checkRecipient(address: string, session: SMTPServerSession): Promise<void> {
    const transaction = this.transaction(session);
    try {
      transaction.recipients.push(await lookUpRecipient(senderOf(session), address));
    } catch (error) {
      if (error instanceof NoEncryptionKeyRefusal) transaction.refusedForNoKey.push(address);
      throw error;
    }
  }

  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const message = await readMessage(stream);
    // smtp-server answers 552 itself for an oversized message (rejectOversized).
    if (!message) return "";
    const transaction = this.transaction(session);
    if (transaction.refusedForNoKey.length > 0) {
      // Some clients go on to DATA with the recipients that were accepted:
      // under "always encrypt" nobody gets a message some recipients cannot.
      throw new SmtpReplyError(
        550,
        "5.7.1",
        `not sent to anyone: no encryption key for ${transaction.refusedForNoKey.map((a) => `<${a}>`).join(", ")}, and this account sends only encrypted mail`,
      );
    }
    const { outcome, encrypted, signedOnly } = await submitMessage(senderOf(session), message, transaction.recipients);
    this.emit({ type: "sent", session: session.id, encrypted, signedOnly, outcome });
    return outcome.reply;
  }

  private transaction(session: SMTPServerSession): Transaction {
    let transaction = this.transactions.get(session.envelope);
    if (!transaction) {
      transaction = { recipients: [], refusedForNoKey: [] };
      this.transactions.set(session.envelope, transaction);
    }
    return transaction;
  }

  private refuse(session: SMTPServerSession, refusal: SmtpReplyError, callback: (error: Error) => void): void {
    this.emit({ type: "refused", session: session.id, reply: refusal.reply });
    callback(refusal.toServerError());
  }

  /** A refusal goes to the client as it is; anything else is our failure,
   * answered 451 so the client keeps the message. */
  private fail(session: SMTPServerSession, error: unknown, callback: (error: Error) => void): void {
    if (error instanceof SmtpReplyError) return this.refuse(session, error, callback);
    this.emit({ type: "error", session: session.id, error });
    callback(new SmtpReplyError(451, "4.3.0", "local error in processing; the message was not sent, try again").toServerError());
  }

  private emit(event: SmtpEvent): void {
    this.hooks.onEvent?.(event);
  }
}

/** One of smtp-server's open connections (its `connections` set). */
type Connection = { send(code: number, data: string): void; close(): void };

function dropConnection(connection: Connection, why: string): void {
  connection.send(421, `${why}, closing`);
  connection.close();
}

function senderOf(session: SMTPServerSession): Sender {
  // smtp-server refuses MAIL, RCPT and DATA before AUTH, so a user is set.
  return session.user as Sender;
}

/** The whole message, or null once it went over the size limit (the rest
 * is read and dropped, so a huge message costs no memory). */
async function readMessage(stream: SMTPServerDataStream): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) if (!stream.sizeExceeded) chunks.push(chunk);
  return stream.sizeExceeded ? null : Buffer.concat(chunks);
}
