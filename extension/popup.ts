// The popup: per account its sync state, unread count, key fingerprint and
// errors, with "Sync now"; per locked account a passphrase field to unlock
// it; while bitmaskd cannot be reached, why and when the next try is. Each
// state has one action. More rows or buttons per account go in ACCOUNT_ROWS
// and ACCOUNT_ACTIONS.
import type { AccountStatus } from "../shared/control-api";
import { formatFingerprint } from "./format";
import type { StatusView } from "./messages";
import { ask, button, element, onStatusChanged, secondsUntil, syncText } from "./page";

const content = document.getElementById("content")!;

type Row = { term: string; value: string; className?: string };

/** The lines shown for an account, in order. */
const ACCOUNT_ROWS: ((account: AccountStatus) => Row | null)[] = [
  (account) => ({ term: "Sync", value: syncText(account) }),
  (account) => ({ term: "Push", value: account.sync.push ?? "off" }),
  (account) => ({ term: "Unread", value: String(account.unread) }),
  (account) =>
    account.keyFingerprint
      ? { term: "Key", value: formatFingerprint(account.keyFingerprint), className: "fingerprint" }
      : { term: "Key", value: "no key yet", className: "muted" },
  (account) => ({ term: "Errors", value: account.errors.length === 0 ? "none" : String(account.errors.length) }),
];

/** The buttons under an account, in order. */
const ACCOUNT_ACTIONS: ((account: AccountStatus, report: (text: string) => void) => HTMLElement | null)[] = [
  (account, report) =>
    button("Sync now", () => {
      report("Syncing…");
      void ask({ type: "sync", address: account.address }).then((reply) => report(reply.ok ? "Synced." : `Sync failed: ${reply.error}`));
    }),
  (account, report) =>
    button("Open web mail", () => {
      void ask({ type: "open-web-mail", address: account.address }).then((reply) => {
        if (!reply.ok) report(reply.error);
      });
    }),
];

function renderAccount(account: AccountStatus): HTMLElement {
  const section = element("section", undefined, "account");
  section.append(element("h2", account.address));
  const details = element("dl");
  for (const rowFor of ACCOUNT_ROWS) {
    const row = rowFor(account);
    if (row) details.append(element("dt", row.term), element("dd", row.value, row.className));
  }
  section.append(details);
  if (account.errors.length > 0) {
    const list = element("ul", undefined, "errors");
    for (const error of account.errors.slice(-5)) list.append(element("li", `${error.source}: ${error.message}`));
    section.append(list);
  }
  const note = element("p", "", "note");
  note.setAttribute("role", "status");
  const actions = element("div", undefined, "buttons");
  for (const actionFor of ACCOUNT_ACTIONS) {
    const action = actionFor(account, (text) => (note.textContent = text));
    if (action) actions.append(action);
  }
  section.append(actions, note);
  return section;
}

/** A locked account: its passphrase, and Unlock (Enter does it too). */
function renderLocked(address: string): HTMLElement {
  const form = element("form", undefined, "account locked");
  form.append(element("h2", address), element("p", "Locked: Thunderbird cannot read this account's mail until you unlock it.", "muted"));
  const field = element("input");
  Object.assign(field, { type: "password", name: "passphrase", required: true, autocomplete: "current-password", placeholder: "Passphrase" });
  field.setAttribute("aria-label", `Passphrase for ${address}`);
  const submit = element("button", "Unlock", "primary");
  submit.type = "submit";
  const note = element("p", "", "note");
  note.setAttribute("role", "status");
  const row = element("div", undefined, "buttons");
  row.append(field, submit);
  form.append(row, note);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    note.textContent = "Unlocking…";
    submit.disabled = true;
    void ask({ type: "login", address, passphrase: field.value }).then((reply) => {
      submit.disabled = false;
      if (reply.ok) void refresh(true);
      else note.textContent = `Not unlocked: ${reply.error}`;
    });
  });
  return form;
}

let countdown: ReturnType<typeof setInterval> | undefined;

function renderUnreachable(view: StatusView): void {
  const box = element("section", undefined, "problem-box");
  box.append(element("p", `bitmaskd is not reachable: ${view.problem ?? "unknown reason"}`, "problem"));
  if (view.retryAt !== null) {
    const next = element("p", `Trying again ${secondsUntil(view.retryAt)}.`, "muted");
    const retryAt = view.retryAt;
    countdown = setInterval(() => (next.textContent = `Trying again ${secondsUntil(retryAt)}.`), 1000);
    box.append(next);
  }
  box.append(button("Try again now", () => void ask({ type: "retry" }), "primary"));
  content.append(box);
}

function render(view: StatusView): void {
  clearInterval(countdown);
  content.replaceChildren();
  if (!view.connected || !view.status) {
    renderUnreachable(view);
    return;
  }
  // Reachable, but setting up Thunderbird's account failed: say so first.
  if (view.problem) content.append(element("p", view.problem, "problem"));
  for (const account of view.status.accounts) content.append(renderAccount(account));
  for (const address of view.status.locked) content.append(renderLocked(address));
  if (view.status.accounts.length + view.status.locked.length === 0) {
    content.append(element("p", "No account yet."), button("Set up an account", () => void ask({ type: "open-setup" }), "primary"));
  }
  if (view.status.offline) content.append(element("p", "Offline: not talking to the provider.", "muted"));
}

async function refresh(always = false): Promise<void> {
  // A passphrase being typed must not be wiped by a status event.
  if (!always && content.querySelector("input:focus")) return;
  const reply = await ask({ type: "status" });
  if (reply.ok) render(reply.view);
  else render({ connected: false, problem: reply.error, retryAt: null, status: null });
}

onStatusChanged(() => void refresh());
void refresh();
