// One SMTP delivery attempt to another provider's MX or to Postfix, with an
// outcome per recipient: delivered, failed for now (4xx, network), or failed
// for good (5xx).
import { connect, type Socket } from "node:net";
import nodemailer from "nodemailer";
import type { Route } from "../options";

export type Outcome = { kind: "delivered" } | { kind: "temporary" | "permanent"; reason: string };

type SmtpError = Error & { responseCode?: number; response?: string; recipient?: string; rejectedErrors?: SmtpError[] };

const TIMEOUT_MS = 60_000;

export async function deliverToRoute(
  route: Route,
  heloName: string,
  mailFrom: string,
  recipients: readonly string[],
  message: Buffer,
): Promise<Map<string, Outcome>> {
  const transport = nodemailer.createTransport({
    ...("socket" in route ? { getSocket: unixSocket(route.socket) } : { host: route.host, port: route.port }),
    secure: false,
    name: heloName,
    // Opportunistic STARTTLS between MTAs: the peer's certificate is not
    // checked (no DANE/MTA-STS here); the mail itself is end-to-end encrypted.
    tls: { rejectUnauthorized: false },
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  const outcomes = new Map<string, Outcome>();
  const refused = (error: SmtpError): Outcome => ({
    kind: error.responseCode !== undefined && error.responseCode >= 500 ? "permanent" : "temporary",
    reason: error.response ?? error.message,
  });
  try {
    const info = await transport.sendMail({ envelope: { from: mailFrom, to: [...recipients] }, raw: message });
    for (const error of (info as { rejectedErrors?: SmtpError[] }).rejectedErrors ?? []) {
      if (error.recipient) outcomes.set(error.recipient, refused(error));
    }
    for (const recipient of recipients) if (!outcomes.has(recipient)) outcomes.set(recipient, { kind: "delivered" });
  } catch (caught) {
    const error = caught as SmtpError;
    for (const rejected of error.rejectedErrors ?? []) {
      if (rejected.recipient) outcomes.set(rejected.recipient, refused(rejected));
    }
    for (const recipient of recipients) if (!outcomes.has(recipient)) outcomes.set(recipient, refused(error));
  } finally {
    transport.close();
  }
  return outcomes;
}

/** nodemailer's socket provider for a Unix socket (Postfix's submission
 * service on the same host). */
function unixSocket(path: string) {
  return (_options: unknown, callback: (error: Error | null, socketOptions?: { connection: Socket }) => void) => {
    const socket = connect(path);
    const failed = (error: Error) => callback(error);
    socket.once("error", failed);
    socket.once("connect", () => {
      socket.off("error", failed);
      callback(null, { connection: socket });
    });
  };
}
