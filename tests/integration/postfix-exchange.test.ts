// Two providers, a.test and b.test, each behind its own real Postfix in a
// network namespace with a real DNS server (tests/helpers/postfix.ts):
// alice@a.test mails bob@b.test through her daemon, her provider (DKIM
// signature), Postfix A (MX lookup of b.test), Postfix B (recipient lookup,
// LMTP) and bob's provider (SPF/DKIM/DMARC, trace fields, encryption to his
// key); bob's daemon shows it decrypted and verified. Unknown recipients are
// refused by Postfix at RCPT.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newDkimKey } from "../../provider/postfix/dkim-key";
import { awaitInInbox, sendThroughGateway } from "../helpers/daemon";
import { type BitmaskHost, domainRecords, mergeRecords, POSTFIX_TOOLS, PostfixLab, startBitmaskHost, stopBitmaskHost } from "../helpers/postfix";
import { requireTool } from "../helpers/tools";

const skip = requireTool(POSTFIX_TOOLS, "Postfix exchange tests");

let lab: PostfixLab;
let a: BitmaskHost;
let b: BitmaskHost;

const headerOf = (source: string) => source.slice(0, source.search(/\r?\n\r?\n/) + 2);

describe.skipIf(skip)("a.test and b.test behind their own Postfix", () => {
  beforeAll(async () => {
    lab = await PostfixLab.create("x");
    const sides = [
      { domain: "a.test", ip: "127.0.0.2", dkim: newDkimKey(), user: "alice" },
      { domain: "b.test", ip: "127.0.0.3", dkim: newDkimKey(), user: "bob" },
    ];
    await lab.startDns(mergeRecords(sides.map(({ domain, ip, dkim }) => domainRecords(domain, ip, { dkim, dmarc: "v=DMARC1; p=reject" }))));
    [a, b] = (await Promise.all(sides.map((side) => startBitmaskHost(lab, side)))) as [BitmaskHost, BitmaskHost];
  }, 120_000);

  afterAll(async () => {
    await stopBitmaskHost(a);
    await stopBitmaskHost(b);
    await lab?.stop();
  }, 60_000);

  it("bob introduces himself to alice: found by MX lookup, signed by b.test, his key learned from the Autocrypt header", async () => {
    await sendThroughGateway(b.device.daemon, b.account, { to: "alice@a.test", subject: "Hello", text: "PFX-INTRO from bob" });
    const source = await awaitInInbox(a.device, a.account, "PFX-INTRO");
    expect(headerOf(source)).toMatch(/^Autocrypt: addr=bob@b\.test;/m);
    expect(await lab.logLine(b.postfix, /to=<alice@a\.test>, relay=mx\.a\.test\[127\.0\.0\.2\]:25, .*status=sent/)).toBeTruthy();
  }, 60_000);

  it("alice mails bob: DKIM pass at b.test, encrypted and signed end to end, with its trace fields", async () => {
    await sendThroughGateway(a.device.daemon, a.account, { to: "bob@b.test", subject: "Across Postfix", text: "PFX-A-TO-B: hello bob" });
    const source = await awaitInInbox(b.device, b.account, "PFX-A-TO-B");
    const header = headerOf(source);
    expect(header).toMatch(/^X-Leap-Encryption: decrypted\r\n/);
    expect(header).toContain(`X-Leap-Signature: valid; pubkey="${a.account.keys!.ownFingerprint()}"\r\n`);
    expect(header).toContain("Subject: Across Postfix\r\n");
    // Authentication-Results by b.test: the a.test signature, SPF for
    // Postfix A's address, DMARC aligned.
    expect(header).toMatch(/^Authentication-Results: b\.test;[^]*?dkim=pass header\.i=@a\.test header\.s=bitmask1/m);
    expect(header).toMatch(/spf=pass[^;]*smtp\.mailfrom=alice@a\.test/);
    expect(header).toMatch(/dmarc=pass[^;]*header\.from=a\.test/);
    expect(header).toContain("Delivered-To: bob@b.test\r\n");
    expect(header).toMatch(/^Received: from localhost \(Postfix\) by b\.test \(Bitmask provider\) with LMTP/m);
    expect(header).toMatch(/^Received: from mx\.a\.test \(mx\.a\.test \[127\.0\.0\.2\]\)\s+by mx\.b\.test \(Postfix\)/m);
    // Postfix A looked up b.test's MX.
    await lab.logLine(a.postfix, /to=<bob@b\.test>, relay=mx\.b\.test\[127\.0\.0\.3\]:25, .*status=sent/);
    // Postfix B handed it to the provider over LMTP.
    await lab.logLine(b.postfix, /to=<bob@b\.test>, relay=.*b\.test-lmtp.*status=sent/);
  }, 60_000);

  it("refuses an unknown recipient at RCPT", async () => {
    const unknown = await lab.exec("swaks", ["--server", b.postfix.ip, "--from", "someone@a.test", "--to", "nosuch@b.test", "--quit-after", "RCPT", "--helo", "mx.a.test"]);
    expect(unknown.stdout).toMatch(/<\*\* 550 5\.1\.1 <nosuch@b\.test>: Recipient address rejected: No such user here/);
    await lab.logLine(b.postfix, /NOQUEUE: reject: RCPT from .*550 5\.1\.1 <nosuch@b\.test>/);
  });
});
