// The setup page: sign up with a provider (create) or log in to an account
// the daemon has locked. The background then configures Thunderbird.
import browser from "webextension-polyfill";
import type { PageReply, PageRequest } from "./messages";

const form = document.getElementById("form") as HTMLFormElement;
const result = document.getElementById("result")!;
const locked = document.getElementById("locked")!;

async function ask(request: PageRequest): Promise<PageReply> {
  return (await browser.runtime.sendMessage(request)) as PageReply;
}

form.addEventListener("submit", (event: SubmitEvent) => {
  event.preventDefault();
  const action = (event.submitter as HTMLButtonElement | null)?.value === "login" ? "login" : "create";
  const fields = new FormData(form);
  const address = String(fields.get("address") ?? "").trim();
  const passphrase = String(fields.get("passphrase") ?? "");
  const provider = String(fields.get("provider") ?? "").trim();
  result.textContent = action === "create" ? "Creating the account…" : "Logging in…";
  const request: PageRequest =
    action === "create" ? { type: "create", address, passphrase, ...(provider ? { provider } : {}) } : { type: "login", address, passphrase, ...(provider ? { provider } : {}) };
  void ask(request).then((reply) => {
    result.textContent = reply.ok ? `${address} is ready: Thunderbird's account is being set up.` : `Failed: ${reply.error}`;
    if (reply.ok) form.reset();
  });
});

void ask({ type: "status" }).then((reply) => {
  if (!reply.ok || !reply.view.status) return;
  const waiting = reply.view.status.locked;
  if (waiting.length > 0) {
    locked.hidden = false;
    locked.textContent = `Waiting for a passphrase: ${waiting.join(", ")}`;
    (form.elements.namedItem("address") as HTMLInputElement).value = waiting[0]!;
  }
});
