// The provider never stores or logs mail plaintext: a marker sent through
// the MX and through submission (to a local user) appears nowhere in its
// files, nor in its logs; nor do session tokens or passwords.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import nodemailer from "nodemailer";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { incoming, newAccount, publishNewKey, startTestProvider } from "../helpers/provider";

function filesContaining(dir: string, needles: string[]): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const bytes = readFileSync(path.join(dir, name));
    for (const needle of needles) {
      for (const encoding of ["utf8", "utf16le"] as const) {
        if (bytes.includes(Buffer.from(needle, encoding))) found.push(`${name}: ${needle} (${encoding})`);
      }
    }
  }
  return found;
}

describe("no plaintext at rest or in logs", () => {
  it("keeps mail content, tokens and passwords out of the database files and logs", async () => {
    const logLines: string[] = [];
    const logSink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString("utf8"));
        done();
      },
    });
    const provider = await startTestProvider({ logger: pino({ level: "trace" }, logSink), limits: { maxMessageBytes: 4 * 1024 * 1024 } });
    try {
      const password = `password-${randomBytes(8).toString("hex")}`;
      const token = await newAccount(provider, "alice", password);
      await publishNewKey(provider, token, "alice@example.org");
      const markers = [`MXMARKER${randomBytes(8).toString("hex")}`, `SUBMARKER${randomBytes(8).toString("hex")}`];
      const subjectMarker = `SUBJECTMARKER${randomBytes(8).toString("hex")}`;
      // Big enough to spill into overflow pages, with the marker throughout.
      const body = (marker: string) => `${marker} `.repeat(50_000);

      await nodemailer
        .createTransport({ host: "127.0.0.1", port: provider.mxPort, secure: false, ignoreTLS: true })
        .sendMail({ from: "someone@example.net", to: "alice@example.org", subject: subjectMarker, text: body(markers[0]!) });
      await nodemailer
        .createTransport({
          host: "127.0.0.1",
          port: provider.submissionPort,
          secure: false,
          ignoreTLS: true,
          auth: { user: "alice", pass: token },
        })
        .sendMail({ from: "alice@example.org", to: "alice@example.org", subject: subjectMarker, text: body(markers[1]!) });
      expect((await incoming(provider, token)).docs).toHaveLength(2);

      const secrets = [...markers, subjectMarker, token, password];
      expect(filesContaining(provider.dataDir, secrets)).toEqual([]);
      expect(logLines.filter((line) => secrets.some((secret) => line.includes(secret)))).toEqual([]);
      expect(logLines.some((line) => line.includes("mx-accepted"))).toBe(true);

      await provider.close();
      expect(filesContaining(provider.dataDir, secrets)).toEqual([]);
    } finally {
      await provider.stop().catch(() => {});
    }
  });
});
