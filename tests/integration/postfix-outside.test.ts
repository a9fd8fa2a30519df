// a.test (a provider behind Postfix) and outside.test, a plain Postfix
// playing an ordinary mail host of the Internet: its mail reaches alice
// stored encrypted with its SPF/DKIM/DMARC results recorded, a forged From
// gets dmarc=fail (and is refused when that domain says p=reject), and
// alice's mail reaches it by MX lookup with a DKIM signature that an
// independent verifier (dkimpy's dkimverify) accepts.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DkimKey, newDkimKey } from "../../provider/postfix/dkim-key";
import { awaitInInbox, sendThroughGateway } from "../helpers/daemon";
import {
  type BitmaskHost,
  DKIM_SELECTOR,
  domainRecords,
  type MailHost,
  mergeRecords,
  POSTFIX_TOOLS,
  PostfixLab,
  startBitmaskHost,
  stopBitmaskHost,
} from "../helpers/postfix";
import { eventually } from "../helpers/provider";
import { expectSuccess, requireTool, runTool } from "../helpers/tools";

const skip = requireTool([...POSTFIX_TOOLS, { name: "dkimsign", install: "apt-get install python3-dkim" }], "Postfix outside-host tests");

let lab: PostfixLab;
let a: BitmaskHost;
let outside: MailHost;
let outsideKey: DkimKey;
let outsideMail: string;

const headerOf = (source: string) => source.slice(0, source.search(/\r?\n\r?\n/) + 2);

/** A message from carol@outside.test's mail program: DKIM-signed by
 * outside.test, then handed to its Postfix (sendmail). */
async function sendFromOutside(from: string, subject: string, body: string, extraFields: string[] = []): Promise<void> {
  const message = [...extraFields, `From: ${from}`, "To: alice@a.test", `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W/g, "")}@outside.test>`, `Date: ${new Date().toUTCString()}`, "", body, ""].join("\r\n");
  const keyFile = path.join(lab.root, "outside.key");
  writeFileSync(keyFile, outsideKey.privateKey);
  const signed = expectSuccess(await runTool("dkimsign", [DKIM_SELECTOR, "outside.test", keyFile], { timeoutMs: 30_000, input: message }), "dkimsign").stdout;
  expectSuccess(await lab.exec("sendmail", ["-C", outside.etc, "-f", "carol@outside.test", "--", "alice@a.test"], { input: signed }), "sendmail");
}

describe.skipIf(skip)("a.test and an outside host", () => {
  beforeAll(async () => {
    lab = await PostfixLab.create("o");
    const aKey = newDkimKey();
    outsideKey = newDkimKey();
    await lab.startDns(
      mergeRecords([
        domainRecords("a.test", "127.0.0.2", { dkim: aKey, dmarc: "v=DMARC1; p=reject" }),
        domainRecords("outside.test", "127.0.0.4", { dkim: outsideKey, dmarc: "v=DMARC1; p=none" }),
        // Domains whose name the outside host forges: one asks receivers to reject.
        domainRecords("bank.test", "127.0.0.9", { dmarc: "v=DMARC1; p=reject" }),
        domainRecords("shop.test", "127.0.0.10", { dmarc: "v=DMARC1; p=none" }),
      ]),
    );
    a = await startBitmaskHost(lab, { domain: "a.test", ip: "127.0.0.2", dkim: aKey, user: "alice" });
    // outside.test keeps its users' mail in one Maildir, delivered by Postfix's virtual(8) as the postfix user.
    outsideMail = path.join(lab.root, "outside-mail");
    const id = async (flag: string) => expectSuccess(await runTool("id", [flag, "postfix"], { timeoutMs: 10_000 }), "id").stdout.trim();
    expectSuccess(await runTool("install", ["-d", "-o", "postfix", "-g", "postfix", outsideMail], { timeoutMs: 10_000 }), "mail folder");
    outside = await lab.startPostfix({
      domain: "outside.test",
      ip: "127.0.0.4",
      main: {
        virtual_mailbox_domains: "outside.test",
        virtual_mailbox_base: outsideMail,
        virtual_mailbox_maps: "static:inbox/",
        virtual_uid_maps: `static:${await id("-u")}`,
        virtual_gid_maps: `static:${await id("-g")}`,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await stopBitmaskHost(a);
    await lab?.stop();
  }, 60_000);

  it("mail from the outside host reaches alice stored encrypted, with SPF, DKIM and DMARC passing", async () => {
    await sendFromOutside("Carol <carol@outside.test>", "From outside", "PFX-OUTSIDE-1: hello alice");
    const header = headerOf(await awaitInInbox(a.device, a.account, "PFX-OUTSIDE-1"));
    expect(header).toMatch(/^Authentication-Results: a\.test;[^]*?dkim=pass header\.i=@outside\.test header\.s=bitmask1/m);
    expect(header).toMatch(/spf=pass[^;]*smtp\.mailfrom=carol@outside\.test/);
    expect(header).toMatch(/dmarc=pass[^;]*header\.from=outside\.test/);
    expect(header).toContain("Delivered-To: alice@a.test\r\n");
    expect(header).toMatch(/^Received: from mx\.outside\.test \(mx\.outside\.test \[127\.0\.0\.4\]\)\s+by mx\.a\.test \(Postfix\)/m);
    // Never readable on the provider's disk.
    for (const entry of readdirSync(a.provider.dataDir, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) expect(readFileSync(path.join(entry.parentPath, entry.name)).includes("PFX-OUTSIDE-1"), entry.name).toBe(false);
    }
  }, 60_000);

  it("alice's daemon drops an Authentication-Results claiming a.test that came from outside", async () => {
    await sendFromOutside("Carol <carol@outside.test>", "Claims", "PFX-FORGED-AR: trust me", ["Authentication-Results: a.test; dkim=pass header.i=@bank.test; dmarc=pass header.from=bank.test"]);
    const header = headerOf(await awaitInInbox(a.device, a.account, "PFX-FORGED-AR"));
    expect(header.match(/^Authentication-Results: a\.test;/gm)).toHaveLength(1);
    expect(header).not.toContain("header.from=bank.test");
    expect(header).toMatch(/^Authentication-Results: a\.test;[^]*?dkim=pass header\.i=@outside\.test/m);
  }, 60_000);

  it("records dmarc=fail for a forged From whose domain says p=none", async () => {
    await sendFromOutside("Shop <news@shop.test>", "Forged shop", "PFX-FORGED-NONE: not really the shop");
    const header = headerOf(await awaitInInbox(a.device, a.account, "PFX-FORGED-NONE"));
    expect(header).toMatch(/^Authentication-Results: a\.test;[^]*?dmarc=fail[^;]*header\.from=shop\.test/m);
    // The signature is real, only not the From domain's.
    expect(header).toMatch(/dkim=pass header\.i=@outside\.test/);
  }, 60_000);

  it("refuses a forged From whose domain says p=reject: Postfix returns it to the sender", async () => {
    await sendFromOutside("Bank <service@bank.test>", "Forged bank", "PFX-FORGED-REJECT: send your password");
    await lab.logLine(a.postfix, /to=<alice@a\.test>, relay=.*a\.test-lmtp.*status=bounced .*550 5\.7\.1 Refused by the DMARC policy of bank\.test/);
    await lab.logLine(outside, /to=<carol@outside\.test>, relay=virtual, .*status=sent/);
  }, 60_000);

  it("alice's mail reaches the outside host by MX lookup, and its DKIM signature verifies with dkimverify", async () => {
    await sendThroughGateway(a.device.daemon, a.account, { to: "carol@outside.test", subject: "To the outside", text: "PFX-TO-OUTSIDE: hello carol" });
    await lab.logLine(a.postfix, /to=<carol@outside\.test>, relay=mx\.outside\.test\[127\.0\.0\.4\]:25, .*status=sent/);
    const delivered = await eventually(
      async () => {
        const folder = path.join(outsideMail, "inbox", "new");
        const files = existsSync(folder) ? readdirSync(folder) : [];
        return files.map((name) => readFileSync(path.join(folder, name), "utf8")).find((text) => text.includes("PFX-TO-OUTSIDE"));
      },
      20_000,
      "alice's message in the outside host's Maildir",
    );
    expect(delivered).toMatch(/^DKIM-Signature: .*d=a\.test;/m);
    // dkimverify resolves the key through the namespace's dnsmasq.
    const verified = await lab.exec("dkimverify", [], { input: delivered });
    expect(verified.stdout.trim(), verified.stderr).toBe("signature ok");
    expect(verified.code).toBe(0);
  }, 60_000);
});
