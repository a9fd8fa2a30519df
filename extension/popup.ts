// The popup: per account its sync state, unread count, key fingerprint and
// errors, as bitmaskd reports them; a link to the setup page when there is
// no account.
import browser from "webextension-polyfill";
import type { AccountStatus } from "../shared/control-api";
import { formatFingerprint } from "./format";
import { STATUS_CHANGED, type PageReply, type StatusView } from "./messages";

const content = document.getElementById("content")!;

function element(tag: string, text?: string, className?: string): HTMLElement {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function syncText(account: AccountStatus): string {
  const { state, progress, lastSyncedAt } = account.sync;
  if (progress) return `${state} ${progress.done}/${progress.total ?? "?"}`;
  return lastSyncedAt ? `${state}, last ${new Date(lastSyncedAt).toLocaleString()}` : state;
}

function renderAccount(account: AccountStatus): HTMLElement {
  const section = element("section");
  section.append(element("h2", account.address));
  const details = element("dl");
  const row = (term: string, value: string, className?: string) => details.append(element("dt", term), element("dd", value, className));
  row("Sync", syncText(account));
  row("Push", account.sync.push ?? "off");
  row("Unread", String(account.unread));
  if (account.keyFingerprint) row("Key", formatFingerprint(account.keyFingerprint), "fingerprint");
  else row("Key", "no key yet", "muted");
  row("Errors", account.errors.length === 0 ? "none" : String(account.errors.length));
  section.append(details);
  const webMail = element("button", "Open web mail") as HTMLButtonElement;
  webMail.type = "button";
  webMail.addEventListener("click", () => {
    void browser.runtime.sendMessage({ type: "open-web-mail", address: account.address }).then((answer) => {
      const reply = answer as PageReply;
      if (!reply.ok) section.append(element("p", reply.error, "problem"));
    });
  });
  section.append(webMail);
  if (account.errors.length > 0) {
    const list = element("ul", undefined, "errors");
    for (const error of account.errors.slice(-5)) list.append(element("li", `${error.source}: ${error.message}`));
    section.append(list);
  }
  return section;
}

function render(view: StatusView): void {
  content.replaceChildren();
  if (!view.connected || !view.status) {
    content.append(element("p", `bitmaskd is not reachable: ${view.problem ?? "unknown reason"}`, "problem"));
    return;
  }
  // Reachable, but setting up Thunderbird's account failed: say so first.
  if (view.problem) content.append(element("p", view.problem, "problem"));
  for (const account of view.status.accounts) content.append(renderAccount(account));
  if (view.status.locked.length > 0) content.append(element("p", `Locked: ${view.status.locked.join(", ")}`, "muted"));
  if (view.status.accounts.length === 0) {
    const link = element("a", "Set up an account") as HTMLAnchorElement;
    link.href = browser.runtime.getURL("setup.html");
    link.target = "_blank";
    content.append(link);
  }
  if (view.status.offline) content.append(element("p", "Offline: not talking to the provider.", "muted"));
}

async function refresh(): Promise<void> {
  const reply = (await browser.runtime.sendMessage({ type: "status" })) as PageReply;
  if (reply.ok) render(reply.view);
  else render({ connected: false, problem: reply.error, status: null });
}

browser.runtime.onMessage.addListener((message: unknown) => {
  if ((message as { type?: string })?.type === STATUS_CHANGED) void refresh();
  return undefined;
});
void refresh();
