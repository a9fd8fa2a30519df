// Reading and writing the Maildir folders real IMAP clients sync into
// (https://cr.yp.to/proto/maildir.html; flags after ":2,").
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";

export type MaildirMessage = {
  /** Path relative to the Maildir: "cur/name" or "new/name". */
  file: string;
  /** The Maildir flag letters (D F P R S T), sorted. */
  letters: string;
  /** The same as IMAP system flags, sorted. */
  flags: string[];
  content: Buffer;
  /** The Message-ID header value, brackets included, or null. */
  messageId: string | null;
};

const LETTER_TO_FLAG: Record<string, string> = { D: "\\Draft", F: "\\Flagged", R: "\\Answered", S: "\\Seen", T: "\\Deleted" };

export function makeMaildir(root: string): void {
  for (const sub of ["cur", "new", "tmp"]) mkdirSync(path.join(root, sub), { recursive: true });
}

/** Drops one message into the Maildir (into cur/ with flag letters, like a mail client would). */
export function addMaildirMessage(root: string, content: Uint8Array, unique: string, letters = ""): string {
  makeMaildir(root);
  const file = path.join("cur", `${unique}:2,${[...letters].sort().join("")}`);
  writeFileSync(path.join(root, file), content);
  return file;
}

export function readMaildir(root: string): MaildirMessage[] {
  const out: MaildirMessage[] = [];
  for (const sub of ["new", "cur"]) {
    const dir = path.join(root, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith(".")) continue;
      const info = name.includes(":2,") ? name.slice(name.lastIndexOf(":2,") + 3) : "";
      const letters = [...info].filter((c) => /[A-Z]/.test(c)).sort().join("");
      const content = readFileSync(path.join(dir, name));
      out.push({
        file: `${sub}/${name}`,
        letters,
        flags: [...letters].map((c) => LETTER_TO_FLAG[c]).filter((f): f is string => !!f).sort(),
        content,
        messageId: messageIdOf(content),
      });
    }
  }
  return out;
}

/** The messages of a Maildir by Message-ID; throws on a duplicate. */
export function maildirByMessageId(root: string): Map<string, MaildirMessage> {
  const map = new Map<string, MaildirMessage>();
  for (const message of readMaildir(root)) {
    if (!message.messageId) throw new Error(`${message.file} has no Message-ID`);
    if (map.has(message.messageId)) throw new Error(`two messages in ${root} have Message-ID ${message.messageId}`);
    map.set(message.messageId, message);
  }
  return map;
}

/** Every file under the Maildir's cur/ and new/ with a hash of its content: equal snapshots, nothing changed. */
export function maildirSnapshot(root: string): Record<string, string> {
  const snapshot: Record<string, string> = {};
  for (const message of readMaildir(root)) snapshot[message.file] = createHash("sha256").update(message.content).digest("hex");
  return snapshot;
}

/** Sets a message's flag letters by renaming it into cur/, as a mail client does. */
export function setMaildirFlags(root: string, message: MaildirMessage, letters: string): void {
  const base = path.basename(message.file);
  const unique = base.includes(":2,") ? base.slice(0, base.lastIndexOf(":2,")) : base;
  renameSync(path.join(root, message.file), path.join(root, "cur", `${unique}:2,${[...letters].sort().join("")}`));
}

export function deleteMaildirMessage(root: string, message: MaildirMessage): void {
  unlinkSync(path.join(root, message.file));
}

export function messageIdOf(content: Buffer): string | null {
  const end = headerLength(content);
  const headerEnd = end < 0 ? content.length : end;
  const match = /^message-id:[ \t]*(<[^>\r\n]*>)/im.exec(content.toString("latin1", 0, headerEnd));
  return match ? match[1]! : null;
}

function headerLength(content: Buffer): number {
  const crlf = content.indexOf("\r\n\r\n");
  const lf = content.indexOf("\n\n");
  if (crlf < 0) return lf;
  if (lf < 0) return crlf;
  return Math.min(crlf, lf);
}

/** Bytes with every line end made LF (Maildir clients store native line ends). */
export function withLf(content: Uint8Array): string {
  return Buffer.from(content).toString("latin1").replace(/\r\n/g, "\n");
}
