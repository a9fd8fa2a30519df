// The provider's submission service as the gateway sees it: one call per
// outgoing envelope, which resolves once the provider took responsibility
// for the message, or throws a RelayError saying whether trying again later
// can help. The implementation speaks SMTP over TLS with nodemailer.
import { isIP } from "node:net";
import nodemailer from "nodemailer";
import { RELAY_CONNECT_TIMEOUT_MS, RELAY_GREETING_TIMEOUT_MS, RELAY_SOCKET_TIMEOUT_MS } from "./limits";

export type Envelope = { from: string; to: readonly string[] };

export interface SubmissionRelay {
  /** Submits one message; resolves when every recipient was accepted. */
  submit(envelope: Envelope, raw: Buffer): Promise<void>;
}

export type RelayFailureKind =
  /** Nothing was said about the message: no connection, TLS or login
   * failed, or the connection dropped. Later attempts may work; other
   * submissions right now will most likely fail the same way. */
  | "unreachable"
  /** The provider answered 4xx: try again later. */
  | "temporary"
  /** The provider answered 5xx: trying again will not help. */
  | "permanent";

export class RelayError extends Error {
  constructor(
    readonly kind: RelayFailureKind,
    message: string,
    /** The provider's SMTP reply ("550 5.1.1 no such user"), when there was one. */
    readonly reply: string | null = null,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = "RelayError";
  }

  get temporary(): boolean {
    return this.kind !== "permanent";
  }

  /** For a bounce or the queue: the provider's reply, else what went wrong. */
  get reason(): string {
    return this.reply ?? this.message;
  }
}

export type SmtpRelayOptions = {
  host: string;
  port: number;
  /** "implicit": TLS from the first byte (port 465); "starttls": plain
   * connect, then STARTTLS, which is required (never sends in the clear). */
  tls: "implicit" | "starttls";
  /** CA certificates (PEM) to trust instead of the system's, e.g. a provider's own CA. */
  ca?: string | Buffer;
  /** The provider session's credential, asked for at each submission, since
   * a session can be renewed while the daemon runs. */
  credential(): { user: string; pass: string };
  /** The name given in EHLO. */
  clientName?: string;
};

/** SubmissionRelay over SMTP: a fresh connection per submission, so a relay
 * that went away and came back is simply reached again. */
export class SmtpSubmissionRelay implements SubmissionRelay {
  constructor(private readonly options: SmtpRelayOptions) {}

  async submit(envelope: Envelope, raw: Buffer): Promise<void> {
    const transport = nodemailer.createTransport({
      host: this.options.host,
      port: this.options.port,
      secure: this.options.tls === "implicit",
      requireTLS: this.options.tls === "starttls",
      tls: { ca: this.options.ca, minVersion: "TLSv1.2", servername: isIP(this.options.host) ? undefined : this.options.host },
      auth: this.options.credential(),
      name: this.options.clientName ?? "bitmask.local",
      connectionTimeout: RELAY_CONNECT_TIMEOUT_MS,
      greetingTimeout: RELAY_GREETING_TIMEOUT_MS,
      socketTimeout: RELAY_SOCKET_TIMEOUT_MS,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    try {
      const info = await transport.sendMail({ envelope: { from: envelope.from, to: [...envelope.to] }, raw });
      if (info.rejected.length > 0) {
        throw new RelayError("permanent", `the provider refused ${info.rejected.join(", ")}`, info.response);
      }
    } catch (error) {
      throw error instanceof RelayError ? error : relayErrorOf(error);
    } finally {
      transport.close();
    }
  }
}

type NodemailerError = Error & { code?: string; responseCode?: number; response?: string };

/** Sorts nodemailer's error into our three kinds, keeping the provider's reply. */
function relayErrorOf(error: unknown): RelayError {
  const { code, responseCode, response, message } = error as NodemailerError;
  const reply = response ?? null;
  if (code === "EAUTH") {
    // Our credential, not the message, is the problem: the session may be renewed.
    return new RelayError("unreachable", "the provider refused our login", reply, { cause: error });
  }
  if (responseCode && responseCode >= 500) return new RelayError("permanent", `the provider refused the message`, reply, { cause: error });
  if (responseCode && responseCode >= 400) return new RelayError("temporary", `the provider deferred the message`, reply, { cause: error });
  return new RelayError("unreachable", `the provider's submission service is unreachable: ${message}`, null, { cause: error });
}
