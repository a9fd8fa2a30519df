// The recipient's MX is down: Postfix keeps alice's mail queued and retries;
// alice gets Postfix's delay notice, then its bounce, each in her INBOX
// (encrypted to her key on the way, like any incoming mail). Postfix's queue
// timers are seconds here instead of hours and days.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newDkimKey } from "../../provider/postfix/dkim-key";
import { awaitInInbox, sendThroughGateway } from "../helpers/daemon";
import { type BitmaskHost, domainRecords, mergeRecords, POSTFIX_TOOLS, PostfixLab, startBitmaskHost, stopBitmaskHost } from "../helpers/postfix";
import { requireTool } from "../helpers/tools";

const skip = requireTool(POSTFIX_TOOLS, "Postfix delay and bounce tests");

let lab: PostfixLab;
let a: BitmaskHost;

describe.skipIf(skip)("an MX that is down", () => {
  beforeAll(async () => {
    lab = await PostfixLab.create("d");
    const dkim = newDkimKey();
    // down.test's MX has an address where nothing listens.
    await lab.startDns(mergeRecords([domainRecords("a.test", "127.0.0.2", { dkim, dmarc: "v=DMARC1; p=reject" }), domainRecords("down.test", "127.0.0.9")]));
    a = await startBitmaskHost(lab, {
      domain: "a.test",
      ip: "127.0.0.2",
      dkim,
      user: "alice",
      timers: {
        queue_run_delay: "1s",
        minimal_backoff_time: "1s",
        maximal_backoff_time: "2s",
        delay_warning_time: "2s",
        maximal_queue_lifetime: "30s",
        bounce_queue_lifetime: "30s",
      },
    });
  }, 180_000);

  afterAll(async () => {
    await stopBitmaskHost(a);
    await lab?.stop();
  }, 60_000);

  it("gives alice a delay notice, then a bounce, while Postfix retries", async () => {
    await sendThroughGateway(a.device.daemon, a.account, { to: "dave@down.test", subject: "Are you there", text: "PFX-DOWN: hello dave" });
    await lab.logLine(a.postfix, /to=<dave@down\.test>, relay=none, .*status=deferred \(connect to mx\.down\.test\[127\.0\.0\.9\]:25: Connection refused\)/);
    const delay = await awaitInInbox(a.device, a.account, "Delayed Mail (still being retried)", 60_000);
    expect(delay).toMatch(/^From: Mail Delivery System <MAILER-DAEMON@a\.test>/m);
    expect(delay).toMatch(/^Authentication-Results: a\.test; none/m);
    expect(delay).toContain("Delivered-To: alice@a.test");
    expect(delay).toContain("Action: delayed");
    expect(delay).toContain("Final-Recipient: rfc822; dave@down.test");
    const bounce = await awaitInInbox(a.device, a.account, "Undelivered Mail Returned to Sender", 90_000);
    expect(bounce).toContain("Action: failed");
    expect(bounce).toContain("Final-Recipient: rfc822; dave@down.test");
    expect(bounce).toContain("Subject: Are you there");
    await lab.logLine(a.postfix, /from=<alice@a\.test>, status=expired, returned to sender/);
  }, 180_000);
});
