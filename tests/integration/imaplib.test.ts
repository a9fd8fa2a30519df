// Python's imaplib against our IMAP server: fetch a message the ways a
// script would (the whole message, and the attachment's part alone by its
// BODYSTRUCTURE section), save the attachment, compare with the original.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { messageWithAttachment, plainMessage } from "../helpers/messages";
import { tempDir } from "../helpers/temp-store";
import { describeRun, expectSuccess, requireTool, runTool } from "../helpers/tools";

const skipReason = requireTool({ name: "python3", install: "apt-get install python3" }, "the python3 imaplib test");

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

// Reads the connection from the environment, writes the attachment twice into
// OUT_DIR: whole.bin from the parsed RFC822 message, part.bin from the body
// part fetched alone. Prints what it did as JSON on the last line.
const SCRIPT = String.raw`
import base64, email, email.policy, imaplib, json, os, re, sys

imaplib.Debug = 4
out_dir = os.environ["OUT_DIR"]
imap = imaplib.IMAP4("127.0.0.1", int(os.environ["IMAP_PORT"]), timeout=20)
typ, _ = imap.login(os.environ["IMAP_USER"], os.environ["IMAP_PASS"])
assert typ == "OK", typ
typ, data = imap.select("INBOX")
assert typ == "OK", (typ, data)
exists = int(data[0])

# Find the message by its subject, as a script would; no SEARCH needed.
typ, data = imap.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert typ == "OK", (typ, data)
uid = None
for item in data:
    if isinstance(item, tuple) and b"Subject: Attachment" in item[1]:
        uid = re.search(rb"UID (\d+)", item[0]).group(1).decode()
assert uid, data

# 1. The whole message, parsed with the email package (sets \Seen).
typ, data = imap.uid("FETCH", uid, "(RFC822)")
assert typ == "OK", (typ, data)
raw = next(item[1] for item in data if isinstance(item, tuple))
message = email.message_from_bytes(raw, policy=email.policy.default)
names = []
for part in message.iter_attachments():
    names.append(part.get_filename())
    with open(os.path.join(out_dir, "whole.bin"), "wb") as f:
        f.write(part.get_payload(decode=True))

# 2. Only the attachment's body part, by its section number in BODYSTRUCTURE.
def parse_list(text, at):
    """The IMAP list starting at text[at] == "(", as nested Python lists."""
    items, at = [], at + 1
    while text[at] != ")":
        if text[at] == " ":
            at += 1
        elif text[at] == "(":
            item, at = parse_list(text, at)
            items.append(item)
        elif text[at] == '"':
            end = at + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            items.append(text[at + 1:end].replace('\\"', '"').replace("\\\\", "\\"))
            at = end + 1
        else:
            end = at
            while text[end] not in " ()":
                end += 1
            items.append(None if text[at:end] == "NIL" else text[at:end])
            at = end
    return items, at + 1

typ, data = imap.uid("FETCH", uid, "(BODYSTRUCTURE)")
assert typ == "OK", (typ, data)
structure = data[0].decode()
start = structure.index("BODYSTRUCTURE (") + len("BODYSTRUCTURE ")
tree, _ = parse_list(structure, start)
leaves = [part for part in tree if isinstance(part, list)]
section = str(next(i + 1 for i, part in enumerate(leaves) if part[0].lower() == "application"))
typ, data = imap.uid("FETCH", uid, "(BODY.PEEK[%s] BODY.PEEK[%s.MIME])" % (section, section))
assert typ == "OK", (typ, data)
parts = {}
for item in data:
    if isinstance(item, tuple):
        key = re.search(rb"BODY\[([0-9.A-Z]+)\]", item[0]).group(1).decode()
        parts[key] = item[1]
assert "base64" in parts[section + ".MIME"].decode().lower(), parts
with open(os.path.join(out_dir, "part.bin"), "wb") as f:
    f.write(base64.b64decode(parts[section]))

typ, data = imap.uid("FETCH", uid, "(FLAGS)")
flags = data[0].decode()
imap.logout()
print(json.dumps({"exists": exists, "uid": uid, "names": names, "flags": flags, "structure": structure}))
`;

describe.skipIf(skipReason)("python3 imaplib", () => {
  it("fetches a message and saves its attachment identical to the original", async () => {
    const imap = await startImap();
    cleanup.push(() => imap.stop());
    const temp = tempDir("imaplib-test-");
    cleanup.push(async () => temp.cleanup());
    const out = path.join(temp.dir, "out");
    mkdirSync(out);
    const script = path.join(temp.dir, "fetch_attachment.py");
    writeFileSync(script, SCRIPT);

    const attachment = randomBytes(150_000);
    const inbox = imap.account.requireMailbox("INBOX");
    inbox.add(plainMessage(1));
    const { uid } = inbox.add(messageWithAttachment(2, attachment, "report.pdf"));
    inbox.add(plainMessage(3));

    const run = await runTool("python3", [script], {
      env: {
        PATH: process.env.PATH,
        HOME: temp.dir,
        OUT_DIR: out,
        IMAP_PORT: String(imap.port),
        IMAP_USER: ADDRESS,
        IMAP_PASS: imap.token,
      },
      timeoutMs: 30_000,
    });
    expectSuccess(run, "the imaplib script");
    const result = JSON.parse(run.stdout.trim().split("\n").pop()!) as { exists: number; uid: string; names: string[]; flags: string };
    const why = describeRun(run);
    expect(result.exists, why).toBe(3);
    expect(result.uid, why).toBe(String(uid));
    expect(result.names, why).toEqual(["report.pdf"]);
    expect(readFileSync(path.join(out, "whole.bin")).equals(attachment), why).toBe(true);
    expect(readFileSync(path.join(out, "part.bin")).equals(attachment), why).toBe(true);
    // RFC822 (not .PEEK) marks the message \Seen, on the server and in the reply.
    expect(result.flags, why).toContain("\\Seen");
    expect(inbox.get(uid)!.flags).toContain("\\Seen");
  }, 60_000);
});
