// IMAP behaviour the RFCs require, each checked on our server and on Dovecot
// 2.3 (the reference) with the same commands over raw sockets: both must
// answer as the RFC sentence quoted beside each test says. Where ours must
// differ from Dovecot, the test says so and why.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireDovecotOrSkipReason, startDovecot, type DovecotServer } from "../helpers/dovecot";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { plainMessage } from "../helpers/messages";
import { RawImap } from "../helpers/raw-imap";

type Server = { name: string; connect(): Promise<RawImap> };

const skipReason = requireDovecotOrSkipReason();
if (skipReason) console.warn(`Checking our server alone, without the Dovecot reference: ${skipReason}`);

let ours: Awaited<ReturnType<typeof startImap>>;
let dovecot: DovecotServer | null = null;
const servers: Server[] = [];
const open: RawImap[] = [];

beforeAll(async () => {
  ours = await startImap();
  servers.push({ name: "ours", connect: () => login(ours.port, ADDRESS, ours.token) });
  if (!skipReason) {
    const reference = await startDovecot();
    dovecot = reference;
    servers.push({ name: "dovecot", connect: () => login(reference.port, reference.user, reference.password) });
  }
});

afterAll(async () => {
  for (const raw of open) raw.close();
  await ours?.stop();
  await dovecot?.stop();
});

async function login(port: number, user: string, password: string): Promise<RawImap> {
  const raw = await RawImap.connect(port);
  open.push(raw);
  expect(await raw.command("L", `LOGIN ${user} ${password}`)).toMatch(/L OK/);
  return raw;
}

/** Runs `check` against every server, naming the server in a failure. */
async function onEach(check: (raw: RawImap, server: string) => Promise<void>): Promise<void> {
  for (const server of servers) {
    const raw = await server.connect();
    try {
      await check(raw, server.name);
    } catch (error) {
      throw new Error(`${server.name}: ${(error as Error).message}`, { cause: error });
    } finally {
      raw.close();
    }
  }
}

/** An APPEND with a synchronizing literal: waits for the continuation. */
async function append(raw: RawImap, tag: string, mailbox: string, message: Buffer): Promise<string> {
  raw.write(`${tag} APPEND ${mailbox} {${message.length}}\r\n`);
  await raw.readUntil((text) => text.startsWith("+"));
  raw.write(Buffer.concat([message, Buffer.from("\r\n")]));
  return raw.readUntil((text) => new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n$`).test(text));
}

const uidsOf = (answer: string) => /\* SEARCH([\d ]*)\r\n/.exec(answer)![1]!.trim();

describe("item 1: every APPEND, COPY and MOVE makes a new message", () => {
  // RFC 3501 6.3.11: "The APPEND command appends the literal argument as a
  // new message to the end of the specified destination mailbox." RFC 4315
  // 3: APPENDUID gives "the UID assigned to the appended message".
  it("APPEND of the same bytes twice appends two messages with two UIDs", async () => {
    await onEach(async (raw) => {
      await raw.command("c", "CREATE Twice");
      const message = plainMessage(1);
      expect(await append(raw, "a1", "Twice", message)).toMatch(/a1 OK \[APPENDUID \d+ 1\]/);
      expect(await append(raw, "a2", "Twice", message)).toMatch(/a2 OK \[APPENDUID \d+ 2\]/);
      expect(await raw.command("s", "SELECT Twice")).toMatch(/\* 2 EXISTS/);
      expect(await raw.command("f", "UID FETCH 1:* RFC822.SIZE")).toMatch(
        new RegExp(`UID 1 RFC822.SIZE ${message.length}\\)[^]*UID 2 RFC822.SIZE ${message.length}\\)`),
      );
    });
  });

  // RFC 3501 6.4.7: "The COPY command copies the specified message(s) to the
  // end of the specified destination mailbox." RFC 6851 3.3: MOVE is a COPY
  // and an expunge; it does not forbid the selected mailbox as destination.
  it("COPY and MOVE into the selected mailbox add new messages with new UIDs", async () => {
    await onEach(async (raw) => {
      await raw.command("c", "CREATE Same");
      await append(raw, "a", "Same", plainMessage(2));
      await raw.command("s", "SELECT Same");
      expect(await raw.command("cp", "UID COPY 1 Same")).toMatch(/\* 2 EXISTS[^]*cp OK \[COPYUID \d+ 1 2\]/);
      const moved = await raw.command("mv", "UID MOVE 1:2 Same");
      expect(moved).toMatch(/\* OK \[COPYUID \d+ 1:2 3:4\]/);
      expect(moved).toMatch(/mv OK/);
      expect(uidsOf(await raw.command("u", "UID SEARCH ALL"))).toBe("3 4");
    });
  });
});

describe("item 2: subscriptions are the client's", () => {
  // RFC 3501 6.3.6: "A server MUST NOT unilaterally remove an existing
  // mailbox name from the subscription list even if a mailbox by that name
  // no longer exists." CREATE (6.3.3) adds nothing to it either.
  it("CREATE does not subscribe, and DELETE keeps the subscription", async () => {
    await onEach(async (raw) => {
      await raw.command("c", "CREATE Kept");
      expect(await raw.command("l1", 'LSUB "" Kept')).not.toMatch(/\* LSUB/);
      await raw.command("s", "SUBSCRIBE Kept");
      await raw.command("d", "DELETE Kept");
      expect(await raw.command("l2", 'LSUB "" Kept')).toMatch(/\* LSUB \([^)]*\) "\/" "?Kept"?\r\n/);
      // RFC 5258 3: "the list MUST also include mailboxes that are subscribed but do not exist".
      expect(await raw.command("l3", 'LIST (SUBSCRIBED) "" Kept')).toMatch(/\* LIST \((?=[^)]*\\NonExistent)(?=[^)]*\\Subscribed)[^)]*\) "\/" "?Kept"?\r\n/);
      // Made again, it is subscribed still; unsubscribed, it is gone from the list.
      await raw.command("c2", "CREATE Kept");
      expect(await raw.command("l4", 'LIST (SUBSCRIBED) "" Kept')).toMatch(/\* LIST \((?![^)]*\\NonExistent)[^)]*\\Subscribed[^)]*\) "\/" "?Kept"?\r\n/);
      await raw.command("u", "UNSUBSCRIBE Kept");
      expect(await raw.command("l5", 'LSUB "" Kept')).not.toMatch(/\* LSUB/);
    });
  });

  // RFC 3501 6.3.9: "if "foo/bar" is subscribed but "foo" is not, a "%"
  // wildcard to LSUB must return foo, not foo/bar, with the \Noselect attribute."
  it("LSUB with % returns the unsubscribed parent of a subscribed child, with \\Noselect", async () => {
    await onEach(async (raw) => {
      await raw.command("c", "CREATE Parent/Child");
      await raw.command("s", "SUBSCRIBE Parent/Child");
      const answer = await raw.command("l", 'LSUB "" "Par%"');
      expect(answer).toMatch(/\* LSUB \([^)]*\\Noselect[^)]*\) "\/" "?Parent"?\r\n/);
      expect(answer).not.toContain("Parent/Child");
      expect(await raw.command("l2", 'LSUB "" "Parent/%"')).toMatch(/\* LSUB \((?![^)]*\\Noselect)[^)]*\) "\/" "?Parent\/Child"?\r\n/);
    });
  });
});

describe("item 4: NIL is a list-mailbox", () => {
  // RFC 3501 9: "list-mailbox = 1*list-char / string", and list-char
  // includes ATOM-CHAR: NIL is the pattern that matches the name "NIL".
  it('answers LIST "" NIL with the mailbox named NIL, or none', async () => {
    await onEach(async (raw) => {
      expect(await raw.command("l1", 'LIST "" NIL')).toMatch(/^l1 OK/);
      await raw.command("c", "CREATE NIL");
      expect(await raw.command("l2", 'LIST "" NIL')).toMatch(/\* LIST \([^)]*\) "\/" "?NIL"?\r\nl2 OK/);
      await raw.command("d", "DELETE NIL");
    });
  });
});

describe("item 6: EXAMINE answers as SELECT does", () => {
  // RFC 3501 6.3.2: "The EXAMINE command is identical to SELECT and returns
  // the same output; however, the selected mailbox is identified as
  // read-only. [...] EXAMINE MUST NOT cause messages to lose the \Recent flag."
  it("reports the same RECENT count as STATUS and a later SELECT", async () => {
    await onEach(async (raw) => {
      await raw.command("c", "CREATE Fresh");
      await append(raw, "a1", "Fresh", plainMessage(3));
      await append(raw, "a2", "Fresh", plainMessage(4));
      expect(await raw.command("st", "STATUS Fresh (RECENT)")).toMatch(/\* STATUS "?Fresh"? \(RECENT 2\)/);
      const examined = await raw.command("e", "EXAMINE Fresh");
      expect(examined).toMatch(/\* 2 RECENT\r\n/);
      expect(await raw.command("f", "FETCH 1:2 FLAGS")).toMatch(/\* 1 FETCH \(FLAGS \(\\Recent\)\)\r\n\* 2 FETCH \(FLAGS \(\\Recent\)\)/);
      expect(await raw.command("s", "SELECT Fresh")).toMatch(/\* 2 RECENT\r\n/);
      expect(await raw.command("e2", "EXAMINE Fresh")).toMatch(/\* 0 RECENT\r\n/);
    });
  });
});

describe("item 7: HIGHESTMODSEQ before the first CONDSTORE answer", () => {
  // RFC 7162 3.1.2.1: a server with persistent mod-sequences "MUST send the
  // OK untagged response including HIGHESTMODSEQ response code with every
  // successful SELECT or EXAMINE command"; 3.1 lists FETCH with MODSEQ as a
  // CONDSTORE enabling command, after which the client relies on it. Ours
  // sends it with every SELECT (so a later enabling command has nothing to
  // add); Dovecot sends it with the enabling command instead. Either way the
  // client has it before the first MODSEQ it reads.
  it("has sent HIGHESTMODSEQ by the time a FETCH MODSEQ after a plain SELECT answers", async () => {
    await onEach(async (raw) => {
      await raw.command("c", "CREATE Modseq");
      await append(raw, "a", "Modseq", plainMessage(5));
      const selected = await raw.command("s", "SELECT Modseq");
      const fetched = await raw.command("f", "FETCH 1 (FLAGS MODSEQ)");
      const both = selected + fetched;
      expect(both).toMatch(/\* OK \[HIGHESTMODSEQ (\d+)\]/);
      const highest = Number(/\[HIGHESTMODSEQ (\d+)\]/.exec(both)![1]);
      expect(both.indexOf("[HIGHESTMODSEQ")).toBeLessThan(both.indexOf("MODSEQ ("));
      expect(Number(/MODSEQ \((\d+)\)/.exec(fetched)![1])).toBeLessThanOrEqual(highest);
    });
  });
});

describe("item 10: nothing but the tagged OK after BYE", () => {
  // RFC 3501 6.1.3: "The server MUST send a BYE untagged response before the
  // (tagged) OK response"; 7.1.5: BYE means the server "is about to close
  // the connection". Pending notices of the selected mailbox are dropped.
  it("drops pending EXPUNGE and FETCH notices on LOGOUT", async () => {
    await onEach(async (raw, server) => {
      await raw.command("c", "CREATE Leaving");
      for (let i = 0; i < 20; i++) await append(raw, `a${i}`, "Leaving", plainMessage(100 + i));
      await raw.command("s", "SELECT Leaving");
      const other = await servers.find((s) => s.name === server)!.connect();
      await other.command("s", "SELECT Leaving");
      await other.command("f", "STORE 1:10 +FLAGS (\\Deleted \\Seen)");
      await other.command("x", "EXPUNGE");
      await other.command("f2", "STORE 1:10 +FLAGS (\\Flagged)");
      other.close();
      const answer = await raw.command("o", "LOGOUT");
      expect(answer).toMatch(/\* BYE[^\r\n]*\r\no OK[^\r\n]*\r\n$/);
    });
  });
});

describe("item 9: a new keyword is announced in FLAGS before a FETCH shows it", () => {
  // RFC 3501 7.2.6: "The update from the FLAGS response MUST be recorded by
  // the client"; it names "the flags that are applicable for this mailbox",
  // so a keyword must be in FLAGS (and PERMANENTFLAGS) before a FETCH uses it.
  it("sends FLAGS and PERMANENTFLAGS with a keyword another session set, before its FETCH", async () => {
    await onEach(async (raw, server) => {
      await raw.command("c", "CREATE Keywords");
      await append(raw, "a", "Keywords", plainMessage(6));
      await append(raw, "a2", "Keywords", plainMessage(7));
      expect(await raw.command("s", "SELECT Keywords")).not.toContain("$Brandnew");
      const other = await servers.find((s) => s.name === server)!.connect();
      await other.command("s", "SELECT Keywords");
      await other.command("f", "STORE 1 +FLAGS ($Brandnew)");
      const noticed = await raw.command("n", "NOOP");
      const flagsAt = noticed.search(/\* FLAGS \([^)]*\$Brandnew[^)]*\)\r\n/);
      expect(flagsAt).toBeGreaterThanOrEqual(0);
      expect(noticed).toMatch(/\* OK \[PERMANENTFLAGS \([^)]*\$Brandnew[^)]*\\\*\)\]/);
      expect(noticed.indexOf("FETCH")).toBeGreaterThan(flagsAt);
      // The same before a FETCH the client asks for itself.
      await other.command("f2", "STORE 2 +FLAGS ($Another)");
      other.close();
      const fetched = await raw.command("f", "FETCH 2 FLAGS");
      const announced = fetched.search(/\* FLAGS \([^)]*\$Another[^)]*\)\r\n/);
      expect(announced).toBeGreaterThanOrEqual(0);
      expect(fetched.search(/\* 2 FETCH \([^\r\n]*\$Another/)).toBeGreaterThan(announced);
    });
  });
});

describe("item 5: SEARCH FROM reads the address the ENVELOPE has", () => {
  // RFC 3501 6.4.4: FROM <string> "Messages that contain the specified
  // string in the envelope structure's FROM field."
  it("finds From: <user-from (comment)@ (comment) domain.org> by user-from@domain.org", async () => {
    const message = Buffer.from(
      "From: <user-from (comment)@ (comment) domain.org>\r\nTo: Some One <one@example.org>\r\nSubject: commented address\r\n" +
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <commented@example.org>\r\n\r\nBody.\r\n",
    );
    await onEach(async (raw, server) => {
      await raw.command("c", "CREATE Commented");
      await append(raw, "a", "Commented", message);
      await append(raw, "a2", "Commented", plainMessage(8));
      await raw.command("s", "SELECT Commented");
      expect(await raw.command("e", "FETCH 1 ENVELOPE")).toContain('(NIL NIL "user-from" "domain.org")');
      expect(uidsOf(await raw.command("f1", 'UID SEARCH FROM "user-from@domain.org"'))).toBe("1");
      // Where ours differs: it also searches the field's text as written, so
      // words of a comment are found (Dovecot searches the parsed address only).
      // A superset of what the RFC names, and what a reader of the header expects.
      expect(uidsOf(await raw.command("f2", 'UID SEARCH FROM "comment"'))).toBe(server === "ours" ? "1" : "");
      expect(uidsOf(await raw.command("f3", 'UID SEARCH TO "one@example.org"'))).toBe("1");
      expect(uidsOf(await raw.command("f4", 'UID SEARCH FROM "sender8@example.org"'))).toBe("2");
    });
  });
});
