// Who the web reader answers, over real HTTP on loopback: only a browser
// holding a session from a one-time link (which works once), only under its
// own Host (DNS rebinding), never from another Origin or site, and writes only
// with the session's CSRF token; the API reaches only the reader's methods
// and only the session's account; a message's HTML comes with a CSP that
// blocks scripts and remote loads. Bad requests get a clear error.
import http from "node:http";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon, UnlockedAccount } from "../../native-host/daemon/daemon";
import { LOGIN_LINK_TTL_MS } from "../../native-host/web/limits";
import { Logins } from "../../native-host/web/login";
import { buildWebPages, testBuildDir } from "../helpers/build";
import { startTestDaemon, type TestDaemon } from "../helpers/daemon";

const PAGES_DIR = testBuildDir("web-security");
let device: TestDaemon;
let daemon: Daemon;
let alice: UnlockedAccount;
let port: number;

type Reply = { status: number; headers: http.IncomingHttpHeaders; body: string };

function request(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: { host: `127.0.0.1:${port}`, ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Logs in with a fresh link: the session cookie and the CSRF token. */
async function logIn(): Promise<{ cookie: string; csrf: string }> {
  const link = new URL(daemon.webLoginLink().url);
  const reply = await request(link.pathname + link.search);
  const cookie = String(reply.headers["set-cookie"]).split(";")[0]!;
  const session = JSON.parse((await request("/api/session", { headers: { cookie } })).body) as { csrf: string };
  return { cookie, csrf: session.csrf };
}

function callApi(session: { cookie: string; csrf: string }, method: string, params: unknown, headers: Record<string, string> = {}) {
  return request("/api/call", {
    method: "POST",
    headers: { cookie: session.cookie, "x-csrf-token": session.csrf, "content-type": "application/json", ...headers },
    body: JSON.stringify({ method, params }),
  });
}

beforeAll(async () => {
  await buildWebPages(PAGES_DIR);
  device = await startTestDaemon({ webPagesDir: PAGES_DIR });
  daemon = device.daemon;
  alice = await daemon.createAccount("alice@example.org", "correct horse battery staple");
  port = Number(new URL(daemon.webOrigin!).port);
  alice.mail.requireMailbox("INBOX").add(
    Buffer.from(
      [
        "From: mallory@example.net",
        "To: alice@example.org",
        "Subject: look at this",
        "Content-Type: text/html; charset=utf-8",
        "",
        '<p>hi</p><img src="http://127.0.0.1:9/track.png"><script>parent.document.title = "owned"</script>',
        "",
      ].join("\r\n"),
    ),
  );
}, 60_000);

afterAll(async () => {
  await device?.stop();
  rmSync(PAGES_DIR, { recursive: true, force: true });
});

describe("the web reader's gate", () => {
  it("exchanges a one-time link for an HttpOnly, SameSite=Strict cookie, once", async () => {
    const link = new URL(daemon.webLoginLink().url);
    expect(link.origin).toBe(daemon.webOrigin);
    expect(link.searchParams.get("secret")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const first = await request(link.pathname + link.search);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe("/");
    const cookie = String(first.headers["set-cookie"]);
    expect(cookie).toMatch(/^bitmask_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
    const page = await request("/", { headers: { cookie: cookie.split(";")[0]! } });
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.headers["content-security-policy"]).not.toContain("unsafe-inline");
    const again = await request(link.pathname + link.search);
    expect(again.status).toBe(403);
    expect(again.headers["set-cookie"]).toBeUndefined();
    expect(again.body).toContain("used already or has expired");
    expect((await request("/login?secret=guessed")).status).toBe(403);
  });

  it("refuses requests without the session cookie", async () => {
    const page = await request("/");
    expect(page.status).toBe(401);
    expect(page.body).toContain("Not logged in");
    expect((await request("/api/session")).status).toBe(401);
    expect((await request("/api/events")).status).toBe(401);
    expect((await request("/message.html?mailbox=INBOX&uid=1")).status).toBe(401);
    const call = await request("/api/call", { method: "POST", body: JSON.stringify({ method: "mail.list", params: { mailbox: "INBOX" } }) });
    expect(call.status).toBe(401);
    expect((await request("/", { headers: { cookie: "bitmask_session=forged" } })).status).toBe(401);
  });

  it("refuses a Host other than 127.0.0.1 or localhost (DNS rebinding), a foreign Origin and cross-site requests", async () => {
    const session = await logIn();
    const rebound = await request("/", { headers: { cookie: session.cookie, host: `attacker.example:${port}` } });
    expect(rebound.status).toBe(421);
    expect(rebound.body).toContain("answers only as 127.0.0.1");
    expect((await request("/", { headers: { cookie: session.cookie, host: `127.0.0.1:${port + 1}` } })).status).toBe(421);
    expect((await request("/", { headers: { cookie: session.cookie, host: `localhost:${port}` } })).status).toBe(200);
    const foreign = await callApi(session, "mail.list", { mailbox: "INBOX" }, { origin: "http://attacker.example" });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain("requests from http://attacker.example are refused");
    expect((await callApi(session, "mail.list", { mailbox: "INBOX" }, { origin: `http://127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await callApi(session, "mail.list", { mailbox: "INBOX" }, { "sec-fetch-site": "cross-site" })).status).toBe(403);
    const login = new URL(daemon.webLoginLink().url);
    expect((await request(login.pathname + login.search, { headers: { "sec-fetch-site": "cross-site" } })).status).toBe(403);
    expect((await callApi(session, "mail.list", { mailbox: "INBOX" }, { origin: daemon.webOrigin! })).status).toBe(200);
  });

  it("needs the session's CSRF token on every API call", async () => {
    const session = await logIn();
    const other = await logIn();
    expect((await callApi({ cookie: session.cookie, csrf: "" }, "mail.list", { mailbox: "INBOX" })).status).toBe(403);
    const wrong = await callApi({ cookie: session.cookie, csrf: other.csrf }, "mail.flags", { mailbox: "INBOX", uids: [1], mode: "add", flags: ["\\Seen"] });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toContain("CSRF");
    expect(alice.mail.requireMailbox("INBOX").get(1)!.flags).toEqual([]);
  });

  it("reaches only the reader's methods, only for the session's account, and answers bad input clearly", async () => {
    const session = await logIn();
    const list = await callApi(session, "mail.list", { mailbox: "INBOX", address: "someone-else@example.org" });
    expect(list.status).toBe(200);
    expect((JSON.parse(list.body) as { result: { total: number } }).result.total).toBe(1);
    for (const method of ["account.passphrase", "mail.get_token", "keys.export", "subscribe", "web.open_link"]) {
      const refused = await callApi(session, method, {});
      expect(refused.status, method).toBe(404);
    }
    const notJson = await request("/api/call", { method: "POST", headers: { cookie: session.cookie, "x-csrf-token": session.csrf }, body: "{method" });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toContain("not JSON");
    const unknownBox = await callApi(session, "mail.list", { mailbox: "Nowhere" });
    expect(unknownBox.status).toBe(404);
    expect(JSON.parse(unknownBox.body)).toEqual({ error: { code: "not-found", message: "no mailbox named Nowhere" } });
    expect((await callApi(session, "mail.list", { mailbox: "INBOX", pageSize: 10_000 })).status).toBe(400);
    expect((await callApi(session, "mail.get", { mailbox: "INBOX", uid: 4_000_000 })).status).toBe(404);
    const huge = await request("/api/call", {
      method: "POST",
      // Refused on its declared length: nothing of it is kept.
      headers: { cookie: session.cookie, "x-csrf-token": session.csrf },
      body: "x".repeat(3 * 1024 * 1024),
    });
    expect(huge.status).toBe(413);
    expect((await request("/api/call", { method: "PUT", headers: { cookie: session.cookie } })).status).toBe(405);
  });

  it("serves a message's HTML under a CSP with no scripts and no remote loads, sandboxed", async () => {
    const session = await logIn();
    const html = await request("/message.html?mailbox=INBOX&uid=1", { headers: { cookie: session.cookie } });
    expect(html.status).toBe(200);
    const csp = html.headers["content-security-policy"]!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/img-src data:(;|$)/);
    expect(csp).toMatch(/(^|; )sandbox(;|$)/);
    expect(csp).not.toMatch(/script-src/);
    expect(html.headers["x-content-type-options"]).toBe("nosniff");
    const attachment = await request("/part?mailbox=INBOX&uid=1&part=1", { headers: { cookie: session.cookie } });
    expect(attachment.headers["content-type"]).toBe("application/octet-stream");
    expect(attachment.headers["content-disposition"]).toMatch(/^attachment;/);
  });
});

describe("log-in links", () => {
  it("expire, and a session ends after its idle time", () => {
    let now = 1_000_000;
    const logins = new Logins(() => now);
    const late = logins.newLink("alice@example.org");
    now += LOGIN_LINK_TTL_MS + 1;
    expect(logins.redeem(late)).toBeNull();
    const session = logins.redeem(logins.newLink("alice@example.org"))!;
    expect(logins.session(session.id)?.address).toBe("alice@example.org");
    now += 9 * 60 * 60_000;
    expect(logins.session(session.id)).toBeNull();
  });
});
