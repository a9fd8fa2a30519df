// Two providers, a.test and b.test, each behind its own real Postfix in a
// network namespace with a real DNS server (tests/helpers/postfix.ts):
// alice@a.test mails bob@b.test through her daemon, her provider (DKIM
// signature), Postfix A (MX lookup of b.test), Postfix B (recipient lookup,
// LMTP) and bob's provider (SPF/DKIM/DMARC, trace fields, encryption to his
// key); bob's daemon shows it decrypted and verified. Unknown recipients are
// refused by Postfix at RCPT.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { newDkimKey } from "../../provider/postfix/dkim-key";
import { postfixSettings, SUBMIT_SERVICE } from "../../provider/postfix/postfix-config";
import { awaitInInbox, sendFromDaemon, signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";
import { type MailHost, POSTFIX_TOOLS, PostfixLab, postfixGroupId } from "../helpers/postfix";
import { requireTool } from "../helpers/tools";

const skip = requireTool(POSTFIX_TOOLS, "Postfix exchange tests");
const SELECTOR = "bitmask1";

type Side = { domain: string; ip: string; postfix: MailHost; provider: TlsProvider; device: TestDaemon; account: UnlockedAccount };

let lab: PostfixLab;
let a: Side;
let b: Side;

const headerOf = (source: string) => source.slice(0, source.search(/\r?\n\r?\n/) + 2);

describe.skipIf(skip)("a.test and b.test behind their own Postfix", () => {
  beforeAll(async () => {
    lab = await PostfixLab.create("x");
    const sides = [
      { domain: "a.test", ip: "127.0.0.2", dkim: newDkimKey() },
      { domain: "b.test", ip: "127.0.0.3", dkim: newDkimKey() },
    ];
    await lab.startDns({
      mx: sides.map(({ domain }) => [domain, `mx.${domain}`]),
      a: sides.map(({ domain, ip }) => [`mx.${domain}`, ip]),
      txt: sides.flatMap(({ domain, ip, dkim }) => [
        [domain, `v=spf1 ip4:${ip} -all`],
        [`${SELECTOR}._domainkey.${domain}`, dkim.dnsText],
        [`_dmarc.${domain}`, "v=DMARC1; p=reject"],
      ]),
    });
    const gid = await postfixGroupId();
    const start = async ({ domain, ip, dkim }: (typeof sides)[number]): Promise<Side> => {
      const sockets = { lmtpSocket: `${lab.root}/${domain}-lmtp`, lookupSocket: `${lab.root}/${domain}-lookup` };
      const settings = postfixSettings({ domain, ...sockets });
      const postfix = await lab.startPostfix({ domain, ip, main: settings.main, master: settings.master });
      const provider = await startTlsProvider({
        domain,
        postfix: {
          ...sockets,
          socketGroupId: gid,
          relay: { socket: postfix.socket(SUBMIT_SERVICE) },
          dkim: { selector: SELECTOR, privateKey: dkim.privateKey },
          dnsServers: [lab.dnsServer],
        },
      });
      const device = await startTestDaemon();
      const account = await signUpAccount(device.daemon, provider, `${domain === "a.test" ? "alice" : "bob"}@${domain}`, `passphrase at ${domain}`);
      await syncNow(account); // makes and publishes the key
      return { domain, ip, postfix, provider, device, account };
    };
    [a, b] = await Promise.all(sides.map(start)) as [Side, Side];
  }, 120_000);

  afterAll(async () => {
    for (const side of [a, b]) {
      await side?.device.stop();
      await side?.provider.stop();
    }
    await lab?.stop();
  }, 60_000);

  it("bob introduces himself to alice: found by MX lookup, signed by b.test, his key learned from the Autocrypt header", async () => {
    const sent = await sendFromDaemon(b.device, b.account, { to: "alice@a.test", subject: "Hello", text: "PFX-INTRO from bob" });
    expect(sent.rejected).toEqual([]);
    const source = await awaitInInbox(a.device, a.account, "PFX-INTRO");
    expect(headerOf(source)).toMatch(/^Autocrypt: addr=bob@b\.test;/m);
    expect(await lab.logLine(b.postfix, /to=<alice@a\.test>, relay=mx\.a\.test\[127\.0\.0\.2\]:25, .*status=sent/)).toBeTruthy();
  }, 60_000);

  it("alice mails bob: DKIM pass at b.test, encrypted and signed end to end, with its trace fields", async () => {
    const sent = await sendFromDaemon(a.device, a.account, { to: "bob@b.test", subject: "Across Postfix", text: "PFX-A-TO-B: hello bob" });
    expect(sent.rejected).toEqual([]);
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
    const unknown = await lab.exec("swaks", ["--server", b.ip, "--from", "someone@a.test", "--to", "nosuch@b.test", "--quit-after", "RCPT", "--helo", "mx.a.test"]);
    expect(unknown.stdout).toMatch(/<\*\* 550 5\.1\.1 <nosuch@b\.test>: Recipient address rejected: No such user here/);
    await lab.logLine(b.postfix, /NOQUEUE: reject: RCPT from .*550 5\.1\.1 <nosuch@b\.test>/);
  });
});
