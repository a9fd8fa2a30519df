// A stand-in for the provider's submission service, until the provider is
// built: a real SMTP server (smtp-server) on 127.0.0.1, port 0, over TLS with
// a self-signed certificate made by openssl, that requires a login and
// records every message it accepts. Tests make it refuse or defer recipients,
// or stop it to play an unreachable relay.
import { readFileSync } from "node:fs";
import path from "node:path";
import { SMTPServer } from "smtp-server";
import { expectSuccess, runTool } from "./tools";
import { tempDir } from "./temp-store";

export type ReceivedMail = { from: string; to: string[]; raw: Buffer };

/** A certificate for 127.0.0.1 and localhost; its PEM is also the CA to trust. */
export async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const { dir, cleanup } = tempDir("bitmask-sink-cert-");
  try {
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    args.push("-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost");
    args.push("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
    expectSuccess(await runTool("openssl", args, { timeoutMs: 20_000 }), "openssl req");
    return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
  } finally {
    cleanup();
  }
}

export type SinkOptions = {
  tls: "implicit" | "starttls";
  certificate: { key: string; cert: string };
  credential: { user: string; pass: string };
};

export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  /** The reply for a recipient, e.g. "550 5.1.1 no such user", or null to accept it. */
  recipientReply: (address: string) => string | null = () => null;
  private server: SMTPServer | null = null;
  port = 0;

  constructor(private readonly options: SinkOptions) {}

  get ca(): string {
    return this.options.certificate.cert;
  }

  /** Starts listening (again, on the same port after stop(), once it had one). */
  async start(): Promise<number> {
    const server = new SMTPServer({
      secure: this.options.tls === "implicit",
      key: this.options.certificate.key,
      cert: this.options.certificate.cert,
      authMethods: ["PLAIN", "LOGIN"],
      size: 100 * 1024 * 1024,
      logger: false,
      disableReverseLookup: true,
      onAuth: (auth, _session, callback) => {
        const { user, pass } = this.options.credential;
        if (auth.username === user && auth.password === pass) callback(null, { user });
        else callback(Object.assign(new Error("bad credential"), { responseCode: 535 }));
      },
      onRcptTo: (address, _session, callback) => {
        const reply = this.recipientReply(address.address);
        if (!reply) return callback();
        // This server adds no enhanced codes of its own, so the reply goes out as written.
        callback(Object.assign(new Error(reply.slice(4)), { responseCode: Number(reply.slice(0, 3)) }));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
          this.received.push({ from, to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks) });
          callback(null, "queued");
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.server.address() as { port: number }).port;
    return this.port;
  }

  /** Stops listening: connections are refused, as with a relay that is down. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
