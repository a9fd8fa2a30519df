// What the MX and the submission service share: their smtp-server options,
// reading the DATA stream, and the per-transaction recipient list.
import type { Logger } from "pino";
import type { SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from "smtp-server";
import { smtpRefusal } from "./smtp-reply";

export function baseSmtpOptions(name: string, maxMessageBytes: number, tls: { cert: string; key: string } | undefined): SMTPServerOptions {
  return {
    name,
    size: maxMessageBytes,
    // Without a certificate there is nothing to offer (smtp-server would
    // otherwise offer STARTTLS with a built-in self-signed certificate).
    ...(tls ? { cert: tls.cert, key: tls.key } : { hideSTARTTLS: true }),
    logger: false,
    // On close, clients still connected after this are cut off.
    closeTimeout: 5000,
    // No reverse DNS of clients: slow, and nothing here needs the name.
    disableReverseLookup: true,
  };
}

/** The message bytes, or the 552 refusal when it is over the size limit. */
export async function readMessage(stream: SMTPServerDataStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    // Past the limit smtp-server keeps reading (to answer after the final
    // dot) but the bytes need not be kept.
    if (!stream.sizeExceeded) chunks.push(chunk);
  }
  if (stream.sizeExceeded) throw smtpRefusal(552, "5.3.4 Message too big");
  return Buffer.concat(chunks);
}

/** The SIZE= the client declared at MAIL FROM, 0 when it declared none. */
export function declaredSize(session: SMTPServerSession): number {
  const args = session.envelope.mailFrom ? (session.envelope.mailFrom.args as Record<string, string | undefined>) : {};
  const size = Number(args.SIZE ?? 0);
  return Number.isSafeInteger(size) && size > 0 ? size : 0;
}

/** State kept per SMTP transaction (from MAIL FROM to the end of DATA). */
export class Transactions<T> {
  private readonly bySession = new Map<string, T>();

  constructor(private readonly fresh: () => T) {}

  begin(session: SMTPServerSession): T {
    const state = this.fresh();
    this.bySession.set(session.id, state);
    return state;
  }

  get(session: SMTPServerSession): T {
    return this.bySession.get(session.id) ?? this.begin(session);
  }

  end(session: SMTPServerSession): void {
    this.bySession.delete(session.id);
  }
}

/** Wraps an async smtp-server callback handler: a thrown refusal becomes the
 * SMTP reply; anything else a logged 451. An LMTP DATA handler may answer
 * with one reply (a text, or a refusal) per recipient. */
export function answer<A extends unknown[], R extends string | (string | Error)[] | undefined = string | undefined>(
  log: Logger,
  handler: (...args: A) => Promise<R>,
): (...args: [...A, (error?: Error | null, message?: string) => void]) => void {
  return (...args) => {
    // smtp-server's typings know only the one-reply form.
    const callback = args.pop() as (error?: Error | null, message?: R) => void;
    handler(...(args as unknown as A)).then(
      (message) => callback(null, message),
      (error: unknown) => {
        if (error instanceof Error && "responseCode" in error) return callback(error);
        log.error({ event: "smtp-error", err: error instanceof Error ? error.message : String(error) }, "SMTP command failed");
        callback(smtpRefusal(451, "4.3.0 Temporary failure, try again later"));
      },
    );
  };
}
