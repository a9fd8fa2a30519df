// The web reader in a real headless Chromium (Debian's, driven by
// playwright-core), against a daemon in this process with an account at a
// local provider, and a second daemon (Carol's) that writes to it. What a
// user does: open the one-time link, see the INBOX, open a message that
// arrived encrypted and signed (its state shown), search, reply (the reply
// reaches Carol encrypted), delete; a hostile HTML message neither runs its
// script nor loads its remote image; requests without the cookie, from a
// foreign origin or under a foreign Host are refused; the link works once;
// changes over IMAP show in the open reader without a reload, and the
// reader's changes reach an IMAP client.
//
// With WEBMAIL_SCREENSHOTS=<dir>, the list and message views are saved
// there (how docs/webmail-list.png and docs/webmail-message.png are made).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { rmSync } from "node:fs";
import path from "node:path";
import { ImapFlow } from "imapflow";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { buildWebPages, testBuildDir } from "../helpers/build";
import { newestInInbox, sendThroughGateway, startTwoDevices, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";
import { requireTool } from "../helpers/tools";

const CHROMIUM = "/usr/bin/chromium";
const skipReason = requireTool({ name: CHROMIUM, install: "apt-get install chromium" }, "the web reader's browser tests");
const PASSPHRASE = "correct horse battery staple";
const PAGES_DIR = testBuildDir("webmail");
const SCREENSHOTS = process.env.WEBMAIL_SCREENSHOTS;

let provider: TlsProvider;
let aliceDevice: TestDaemon;
let carolDevice: TestDaemon;
let alice: UnlockedAccount;
let carol: UnlockedAccount;
let browser: Browser;
/** A server on another port standing for the internet and for a hostile site; it counts every request. */
let elsewhere: http.Server;
const elsewhereHits: string[] = [];
let elsewhereOrigin: string;
let attackPage = "";

async function carolWrites(subject: string, text: string): Promise<void> {
  await sendThroughGateway(carolDevice.daemon, carol, { from: `Carol <${carol.address}>`, to: alice.address, subject, text });
  await syncNow(alice);
}

function imapClient(): ImapFlow {
  return new ImapFlow({
    host: "127.0.0.1",
    port: aliceDevice.daemon.imapPort,
    secure: false,
    auth: { user: alice.address, pass: alice.tokens.current() },
    logger: false,
  });
}

/** A browser context logged in through a fresh one-time link, on the INBOX. */
async function loggedIn(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
  const page = await context.newPage();
  const response = await page.goto(aliceDevice.daemon.webLoginLink().url);
  expect(response!.status()).toBe(200);
  await page.locator("#messages tr.message").first().waitFor();
  return { context, page };
}

function row(page: Page, subject: string) {
  return page.locator("#messages tr.message", { hasText: subject });
}

beforeAll(async () => {
  if (skipReason) return;
  await buildWebPages(PAGES_DIR);
  elsewhere = http.createServer((request, response) => {
    if (request.url === "/attack.html") {
      response.writeHead(200, { "Content-Type": "text/html" });
      return response.end(attackPage);
    }
    elsewhereHits.push(request.url ?? "");
    response.writeHead(200, { "Content-Type": "image/png" });
    response.end();
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
  elsewhereOrigin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  ({ provider, aliceDevice, carolDevice, alice, carol } = await startTwoDevices(PASSPHRASE, { webPagesDir: PAGES_DIR }));
  await carolWrites("Lighthouse rota", "You have the lamp on Thursday; the keys are under the blue stone.");
  await carolWrites("Tide tables", "High water at 06:12 and 18:40 this week.");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // The wrapper skips this flag on machines with /dev/shm mounted twice (REAL-PEERS.md).
    args: ["--disable-dev-shm-usage", "--host-resolver-rules=MAP rebound.test 127.0.0.1"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await aliceDevice?.stop();
  await carolDevice?.stop();
  await provider?.stop();
  elsewhere?.close();
  rmSync(PAGES_DIR, { recursive: true, force: true });
});

describe.skipIf(skipReason)("the web reader in Chromium", () => {
  it("opens with the one-time link, shows the INBOX, an encrypted and signed message with its state; searches, replies, deletes", async () => {
    const { context, page } = await loggedIn();
    try {
      await expect.poll(() => page.locator("#messages tr.message.unread").count()).toBe(2);
      await expect.poll(() => page.locator('nav a[data-mailbox="INBOX"] .count').textContent()).toBe("2");
      expect(await row(page, "Lighthouse rota").locator(".badge.encrypted").count()).toBe(1);
      expect(await row(page, "Lighthouse rota").locator(".badge.signed").count()).toBe(1);
      if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, "webmail-list.png") });

      await row(page, "Lighthouse rota").click();
      await page.locator("#message").waitFor();
      expect(await page.locator("#message h2").textContent()).toBe("Lighthouse rota");
      expect(await page.locator("#message pre.text").textContent()).toContain("under the blue stone");
      expect(await page.locator("#security").textContent()).toBe(`Arrived encrypted; signature valid (key ${carol.keys!.ownFingerprint()})`);
      if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, "webmail-message.png") });
      // Opening it marked it read.
      await expect.poll(() => alice.mail.requireMailbox("INBOX").counts().unseen).toBe(1);

      await page.fill("#search-words", "blue stone");
      await page.press("#search-words", "Enter");
      await expect.poll(() => page.locator("#main .pager").textContent()).toContain("1 found in INBOX");
      expect(await page.locator("#messages tr.message").allTextContents()).toEqual([expect.stringContaining("Lighthouse rota")]);

      await row(page, "Lighthouse rota").click();
      await page.getByRole("button", { name: "Reply" }).click();
      expect(await page.inputValue("#compose-to")).toBe(carol.address);
      expect(await page.inputValue("#compose-subject")).toBe("Re: Lighthouse rota");
      await page.fill("#compose-text", "Thursday is fine, thanks.");
      await page.getByRole("button", { name: "Send" }).click();
      await expect.poll(() => page.locator("#status").textContent(), { timeout: 15_000 }).toMatch(/^Sent: 1 encrypted, 0 signed only/);
      await syncNow(carol);
      const reply = newestInInbox(carol);
      expect(reply).toContain("X-Leap-Encryption: decrypted");
      expect(reply).toContain(`X-Leap-Signature: valid; pubkey="${alice.keys!.ownFingerprint()}"`);
      expect(reply).toContain("Thursday is fine, thanks.");

      await page.locator("#message").waitFor();
      await page.getByRole("button", { name: "Delete" }).click();
      await expect.poll(() => row(page, "Lighthouse rota").count()).toBe(0);
      expect(alice.mail.requireMailbox("Trash").counts().messages).toBe(1);
    } finally {
      await context.close();
    }
  });

  it("writes a new message, marks one unread, and moves one to another mailbox", async () => {
    const { context, page } = await loggedIn();
    try {
      await page.click("#compose-link");
      await page.fill("#compose-to", carol.address);
      await page.fill("#compose-subject", "Harbour walk");
      await page.fill("#compose-text", "Saturday at ten?");
      await page.getByRole("button", { name: "Send" }).click();
      await expect.poll(() => page.locator("#status").textContent(), { timeout: 15_000 }).toMatch(/^Sent: 1 encrypted/);
      await syncNow(carol);
      expect(newestInInbox(carol)).toContain("Saturday at ten?");
      await page.click('nav a[data-mailbox="Sent"]');
      await expect.poll(() => row(page, "Harbour walk").count()).toBe(1);

      await page.click('nav a[data-mailbox="INBOX"]');
      await row(page, "Tide tables").click();
      await page.getByRole("button", { name: "Mark unread" }).click();
      await expect.poll(() => row(page, "Tide tables").getAttribute("class")).toContain("unread");
      await row(page, "Tide tables").click();
      await page.selectOption("#message select", "Archive");
      await expect.poll(() => row(page, "Tide tables").count()).toBe(0);
      await page.click('nav a[data-mailbox="Archive"]');
      await expect.poll(() => row(page, "Tide tables").count()).toBe(1);
    } finally {
      await context.close();
    }
  });

  it("shows a hostile HTML message without running its script or loading its remote image", async () => {
    const hostile = [
      "From: Mallory <mallory@example.net>",
      `To: ${alice.address}`,
      "Subject: You won a prize",
      "MIME-Version: 1.0",
      "Content-Type: text/html; charset=utf-8",
      "",
      `<h1>Prize!</h1><img src="${elsewhereOrigin}/tracking-pixel.png">`,
      `<link rel="stylesheet" href="${elsewhereOrigin}/remote.css">`,
      `<script>fetch("${elsewhereOrigin}/script-ran"); top.document.title = "owned";</script>`,
      `<img src="x" onerror="fetch('${elsewhereOrigin}/onerror-ran')">`,
      "",
    ].join("\r\n");
    alice.mail.requireMailbox("INBOX").add(Buffer.from(hostile));
    const { context, page } = await loggedIn();
    try {
      const violations: string[] = [];
      page.on("console", (message) => violations.push(message.text()));
      await row(page, "You won a prize").click();
      const frame = page.frameLocator("iframe.html");
      expect(await frame.locator("h1").textContent()).toBe("Prize!");
      expect(await page.locator("iframe.html").getAttribute("sandbox")).toBe("");
      // Give the page time to have run and loaded whatever it could.
      await page.waitForTimeout(500);
      expect(elsewhereHits).toEqual([]);
      expect(await page.title()).toBe("Bitmask Mail");
      expect(violations.some((text) => /Content Security Policy|sandboxed/.test(text))).toBe(true);
    } finally {
      await context.close();
    }
  });

  it("refuses requests without the cookie, from a foreign origin, and under a foreign Host; the link works once", async () => {
    const link = aliceDevice.daemon.webLoginLink().url;
    const origin = aliceDevice.daemon.webOrigin!;
    const stranger = await browser.newContext();
    try {
      const page = await stranger.newPage();
      const noCookie = await page.goto(`${origin}/`);
      expect(noCookie!.status()).toBe(401);
      expect(await page.locator("main").textContent()).toContain("Not logged in");
      expect((await page.goto(link))!.status()).toBe(200);
      const second = await browser.newContext();
      const again = await (await second.newPage()).goto(link);
      expect(again!.status()).toBe(403);
      expect(await again!.text()).toContain("used already or has expired");
      await second.close();
    } finally {
      await stranger.close();
    }

    const { context, page } = await loggedIn();
    try {
      const port = new URL(origin).port;
      // DNS rebinding: a name the attacker controls, resolving to 127.0.0.1.
      const rebound = await (await context.newPage()).goto(`http://rebound.test:${port}/`);
      expect(rebound!.status()).toBe(421);
      // A page on another local port is the same site (ports do not count),
      // so the browser sends the cookie: Origin and the CSRF token stop it.
      const inbox = alice.mail.requireMailbox("INBOX");
      const target = inbox.uids().at(-1)!;
      const flagsBefore = [...inbox.get(target)!.flags];
      attackPage = `<script>
        window.results = Promise.all([
          fetch("${origin}/api/call", { method: "POST", credentials: "include", mode: "no-cors",
            body: JSON.stringify({ method: "mail.delete", params: { mailbox: "INBOX", uids: [${target}] } }) }),
          fetch("${origin}/api/session", { credentials: "include" }).then((r) => r.text()),
        ].map((p) => p.then(() => "answered", (e) => "blocked: " + e.message)));
      </script>`;
      const attacker = await context.newPage();
      await attacker.goto(`${elsewhereOrigin}/attack.html`);
      const outcomes = await attacker.evaluate(() => (window as unknown as { results: Promise<string[]> }).results);
      expect(outcomes[1]).toMatch(/^blocked/);
      expect(inbox.get(target)?.flags).toEqual(flagsBefore);
      expect(await page.locator("#messages tr.message").count()).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  });

  it("shows IMAP changes live, without a reload, and IMAP clients see the reader's changes", async () => {
    const { context, page } = await loggedIn();
    const imap = imapClient();
    await imap.connect();
    try {
      await page.evaluate(() => ((window as unknown as { untouched: boolean }).untouched = true));
      const lock = await imap.getMailboxLock("INBOX");
      try {
        const newest = alice.mail.requireMailbox("INBOX").uids().at(-1)!;
        expect(await page.locator(`#messages tr.message[data-uid="${newest}"] .badge.flagged`).count()).toBe(0);
        await imap.messageFlagsAdd(String(newest), ["\\Flagged"], { uid: true });
        await expect.poll(() => page.locator(`#messages tr.message[data-uid="${newest}"] .badge.flagged`).count()).toBe(1);
        await imap.append("INBOX", Buffer.from(`From: dora@example.net\r\nTo: ${alice.address}\r\nSubject: Appended over IMAP\r\n\r\nhello\r\n`));
        await expect.poll(() => row(page, "Appended over IMAP").count()).toBe(1);
        expect(await page.evaluate(() => (window as unknown as { untouched?: boolean }).untouched)).toBe(true);

        // The other way: the reader flags a message; an IMAP client sees it.
        await row(page, "Appended over IMAP").click();
        await page.getByRole("button", { name: "Flag" }).click();
        await expect
          .poll(async () => {
            const message = await imap.fetchOne("*", { flags: true });
            return message ? [...(message.flags ?? [])] : [];
          })
          .toEqual(expect.arrayContaining(["\\Seen", "\\Flagged"]));
      } finally {
        lock.release();
      }
    } finally {
      await imap.logout();
      await context.close();
    }
  });
});
