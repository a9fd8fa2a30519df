// The web reader in the browser: plain DOM, no framework. Every read and
// change is a call to the control API's mail methods through /api/call
// (with the session's CSRF token); /api/events streams the mail API's
// changes, so what IMAP clients do shows here without a reload. Text is set
// with textContent only; a message's HTML goes to a sandboxed iframe served
// with its own CSP (no scripts, no remote loads).
import type { ControlEvent, ControlMethod, ControlParams, ControlResult, MailboxListing, MessageSummary, MessageView } from "../../../shared/control-api";

type Route =
  | { view: "list"; mailbox: string; page: number }
  | { view: "message"; mailbox: string; uid: number }
  | { view: "search"; mailbox: string; query: string }
  | { view: "compose"; replyTo?: { mailbox: string; uid: number } };

const PAGE_SIZE = 50;
let csrf = "";
let route: Route = { view: "list", mailbox: "INBOX", page: 0 };
let mailboxes: MailboxListing[] = [];

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

/** Properties set on a new element: className, value, disabled... */
type Props = Record<string, string | number | boolean>;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

type WithoutAddress<M extends ControlMethod> = Omit<ControlParams<M>, "address">;

async function call<M extends ControlMethod>(method: M, params: WithoutAddress<M>): Promise<ControlResult<M>> {
  const response = await fetch("/api/call", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ method, params }),
  });
  const reply = (await response.json()) as { result?: ControlResult<M>; error?: { message: string } };
  if (reply.error) throw new Error(reply.error.message);
  return reply.result!;
}

function say(text: string): void {
  $("#status").textContent = text;
}

function hashFor(next: Route): string {
  const box = encodeURIComponent(next.view === "compose" ? "" : next.mailbox);
  if (next.view === "list") return `#/box/${box}/page/${next.page}`;
  if (next.view === "message") return `#/box/${box}/msg/${next.uid}`;
  if (next.view === "search") return `#/search/${box}/${encodeURIComponent(next.query)}`;
  return next.replyTo ? `#/compose/${encodeURIComponent(next.replyTo.mailbox)}/${next.replyTo.uid}` : "#/compose";
}

function parseHash(): Route {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "box" && parts[1]) {
    if (parts[2] === "msg") return { view: "message", mailbox: parts[1], uid: Number(parts[3]) };
    return { view: "list", mailbox: parts[1], page: Number(parts[3] ?? 0) || 0 };
  }
  if (parts[0] === "search" && parts[1] && parts[2]) return { view: "search", mailbox: parts[1], query: parts[2] };
  if (parts[0] === "compose") return parts[1] ? { view: "compose", replyTo: { mailbox: parts[1], uid: Number(parts[2]) } } : { view: "compose" };
  return { view: "list", mailbox: "INBOX", page: 0 };
}

function go(next: Route): void {
  location.hash = hashFor(next);
}

async function showMailboxes(): Promise<void> {
  mailboxes = (await call("mail.mailboxes", {})).mailboxes;
  const current = route.view === "compose" ? null : route.mailbox;
  $("#mailboxes").replaceChildren(
    ...mailboxes.map((box) => {
      const link = element("a", { href: hashFor({ view: "list", mailbox: box.name, page: 0 }), className: box.name === current ? "current" : "" }, box.name);
      link.dataset.mailbox = box.name;
      if (box.unseen > 0) link.append(element("span", { className: "count", title: `${box.unseen} unread` }, String(box.unseen)));
      return element("li", {}, link);
    }),
  );
}

function badges(security: MessageSummary["security"], flags: string[]): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (security.encrypted) out.push(element("span", { className: "badge encrypted", title: "arrived encrypted" }, "encrypted"));
  if (security.signature === "valid") out.push(element("span", { className: "badge signed", title: `signed by ${security.signer}` }, "signed"));
  if (security.signature === "invalid") out.push(element("span", { className: "badge bad" }, "bad signature"));
  if (flags.includes("\\Flagged")) out.push(element("span", { className: "badge flagged" }, "flagged"));
  return out;
}

function messageTable(mailbox: string, messages: MessageSummary[]): HTMLElement {
  if (messages.length === 0) return element("p", { className: "empty" }, "No messages.");
  const rows = messages.map((message) => {
    const row = element(
      "tr",
      { className: `message${message.flags.includes("\\Seen") ? "" : " unread"}`, tabIndex: 0 },
      element("td", { className: "from" }, message.from),
      element("td", { className: "subject" }, ...badges(message.security, message.flags), message.subject || "(no subject)"),
      element("td", { className: "date" }, new Date(message.date).toLocaleString()),
    );
    row.dataset.uid = String(message.uid);
    const open = () => go({ view: "message", mailbox, uid: message.uid });
    row.addEventListener("click", open);
    row.addEventListener("keydown", (event) => event.key === "Enter" && open());
    return row;
  });
  return element(
    "table",
    { id: "messages" },
    element("thead", {}, element("tr", {}, element("th", {}, "From"), element("th", {}, "Subject"), element("th", {}, "Date"))),
    element("tbody", {}, ...rows),
  );
}

async function showList(mailbox: string, page: number): Promise<void> {
  const result = await call("mail.list", { mailbox, page, pageSize: PAGE_SIZE });
  const pages = Math.max(1, Math.ceil(result.total / PAGE_SIZE));
  const pager = element("div", { className: "pager" });
  const previous = element("button", { type: "button", textContent: "Newer", disabled: page === 0 });
  const next = element("button", { type: "button", textContent: "Older", disabled: page + 1 >= pages });
  previous.addEventListener("click", () => go({ view: "list", mailbox, page: page - 1 }));
  next.addEventListener("click", () => go({ view: "list", mailbox, page: page + 1 }));
  pager.append(previous, next, element("span", {}, `${result.mailbox}: ${result.total} messages, page ${page + 1} of ${pages}`));
  $("#main").replaceChildren(pager, messageTable(result.mailbox, result.messages));
}

async function showSearch(mailbox: string, query: string): Promise<void> {
  const result = await call("mail.search", { mailbox, query });
  const heading = element("p", { className: "pager" }, `${result.total} found in ${result.mailbox} for “${query}”`);
  $("#main").replaceChildren(heading, messageTable(result.mailbox, result.messages));
}

function securityText(security: MessageView["security"]): { text: string; tone: string } {
  const encryption = security.encrypted ? "Arrived encrypted" : "Not encrypted";
  const signature = {
    valid: `signature valid (key ${security.signer})`,
    invalid: "signature INVALID",
    unverified: "signature could not be verified",
    none: "not signed",
  }[security.signature ?? "none"];
  const text = `${encryption}; ${signature}${security.error ? `. ${security.error}` : ""}`;
  const tone = security.signature === "invalid" || security.error ? "bad" : security.encrypted && security.signature === "valid" ? "good" : "";
  return { text, tone };
}

async function showMessage(mailbox: string, uid: number): Promise<void> {
  let message = await call("mail.get", { mailbox, uid });
  if (!message.flags.includes("\\Seen")) {
    await call("mail.flags", { mailbox, uids: [uid], mode: "add", flags: ["\\Seen"] });
    message = { ...message, flags: [...message.flags, "\\Seen"] };
  }
  const security = securityText(message.security);
  const headers = element("dl", { className: "headers" });
  for (const [name, value] of [["From", message.from], ["To", message.to], ["Cc", message.cc], ["Date", new Date(message.date).toLocaleString()]]) {
    if (value) headers.append(element("dt", {}, name!), element("dd", {}, value));
  }
  const view = element(
    "article",
    { className: "message-view", id: "message" },
    element("h2", {}, message.subject || "(no subject)"),
    headers,
    element("p", { className: `security ${security.tone}`, id: "security" }, security.text),
    actions(mailbox, message),
  );
  if (message.html !== null) {
    const frame = element("iframe", { className: "html", title: "the message", src: `/message.html?mailbox=${encodeURIComponent(mailbox)}&uid=${uid}` });
    // No scripts, no same origin, no forms, no pop-ups, no top navigation.
    frame.setAttribute("sandbox", "");
    frame.setAttribute("referrerpolicy", "no-referrer");
    view.append(element("p", { className: "remote-note" }, "Remote content (images, fonts, styles from elsewhere) is blocked."), frame);
  } else {
    view.append(element("pre", { className: "text" }, message.text ?? ""));
  }
  if (message.attachments.length > 0) {
    view.append(
      element(
        "ul",
        { className: "attachments" },
        ...message.attachments.map((part) =>
          element(
            "li",
            {},
            element("a", { href: `/part?mailbox=${encodeURIComponent(mailbox)}&uid=${uid}&part=${part.part}` }, part.filename ?? `part ${part.part}`),
            ` ${part.contentType}, ${part.size} bytes`,
          ),
        ),
      ),
    );
  }
  $("#main").replaceChildren(view);
}

function actions(mailbox: string, message: MessageView): HTMLElement {
  const bar = element("div", { className: "actions" });
  const button = (label: string, action: () => Promise<void>) => {
    const node = element("button", { type: "button", textContent: label });
    node.addEventListener("click", () => void action().catch((error: Error) => say(error.message)));
    bar.append(node);
  };
  button("Reply", async () => go({ view: "compose", replyTo: { mailbox, uid: message.uid } }));
  button("Mark unread", async () => {
    await call("mail.flags", { mailbox, uids: [message.uid], mode: "remove", flags: ["\\Seen"] });
    go({ view: "list", mailbox, page: 0 });
  });
  const flagged = message.flags.includes("\\Flagged");
  button(flagged ? "Unflag" : "Flag", async () => {
    await call("mail.flags", { mailbox, uids: [message.uid], mode: flagged ? "remove" : "add", flags: ["\\Flagged"] });
    await render();
  });
  const target = element("select", { title: "move to" }, element("option", { value: "" }, "Move to…"));
  for (const box of mailboxes) if (box.name !== mailbox) target.append(element("option", { value: box.name }, box.name));
  target.addEventListener("change", () => {
    if (!target.value) return;
    call("mail.move", { mailbox, uids: [message.uid], target: target.value })
      .then(() => go({ view: "list", mailbox, page: 0 }))
      .catch((error: Error) => say(error.message));
  });
  bar.append(target);
  button("Delete", async () => {
    const trash = mailboxes.find((box) => box.specialUse === "\\Trash");
    if (trash && trash.name !== mailbox) await call("mail.move", { mailbox, uids: [message.uid], target: trash.name });
    else await call("mail.delete", { mailbox, uids: [message.uid] });
    say("Deleted.");
    go({ view: "list", mailbox, page: 0 });
  });
  return bar;
}

/** The address in "Name <address>", or the text as it is. */
function bareAddress(text: string): string {
  return /<([^>]+)>/.exec(text)?.[1] ?? text.trim();
}

async function showCompose(replyTo?: { mailbox: string; uid: number }): Promise<void> {
  const original = replyTo ? await call("mail.get", replyTo) : null;
  const field = (label: string, input: HTMLElement): HTMLElement[] => [element("label", { htmlFor: input.id }, label), input];
  const to = element("input", { id: "compose-to", name: "to", required: true, value: original ? bareAddress(original.replyTo || original.from) : "" });
  const cc = element("input", { id: "compose-cc", name: "cc" });
  const subject = element("input", { id: "compose-subject", name: "subject", value: original ? `Re: ${original.subject.replace(/^re:\s*/i, "")}` : "" });
  const quoted = original?.text ? `\n\n${original.from} wrote:\n${original.text.replace(/^/gm, "> ")}` : "";
  const text = element("textarea", { id: "compose-text", name: "text", value: quoted });
  const form = element(
    "form",
    { className: "compose", id: "compose" },
    ...field("To", to),
    ...field("Cc", cc),
    ...field("Subject", subject),
    ...field("Message", text),
    element("button", { type: "submit", className: "send", textContent: "Send" }),
  );
  const list = (value: string) => value.split(/[,;\s]+/).filter(Boolean);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    say("Sending…");
    call("mail.send", { message: { to: list(to.value), cc: list(cc.value), subject: subject.value, text: text.value, inReplyTo: replyTo } })
      .then((outcome) => {
        say(`Sent: ${outcome.encrypted} encrypted, ${outcome.signedOnly} signed only. ${outcome.reply}`);
        go(replyTo ? { view: "message", mailbox: replyTo.mailbox, uid: replyTo.uid } : { view: "list", mailbox: "INBOX", page: 0 });
      })
      .catch((error: Error) => say(error.message));
  });
  $("#main").replaceChildren(form);
  to.focus();
}

async function render(): Promise<void> {
  route = parseHash();
  try {
    await showMailboxes();
    if (route.view === "list") await showList(route.mailbox, route.page);
    else if (route.view === "message") await showMessage(route.mailbox, route.uid);
    else if (route.view === "search") await showSearch(route.mailbox, route.query);
    else await showCompose(route.replyTo);
  } catch (error) {
    say((error as Error).message);
  }
}

/** A change elsewhere (an IMAP client, incoming mail, another tab): redraw what it touches. */
function onChange(event: ControlEvent): void {
  if (event.event !== "mail-changed") return void showMailboxes().catch(() => undefined);
  const here = route.view === "compose" ? null : route.mailbox;
  if (event.kind === "mailboxes" || event.mailbox === here) {
    if (route.view === "compose") return void showMailboxes();
    if (route.view === "message" && event.kind === "expunged" && event.uids.includes(route.uid)) {
      say("This message was moved or deleted elsewhere.");
      return go({ view: "list", mailbox: route.mailbox, page: 0 });
    }
    void render();
  } else {
    void showMailboxes().catch(() => undefined);
  }
}

async function start(): Promise<void> {
  const session = (await (await fetch("/api/session")).json()) as { address: string; csrf: string };
  csrf = session.csrf;
  $("#account").textContent = session.address;
  $<HTMLFormElement>("#search").addEventListener("submit", (event) => {
    event.preventDefault();
    const words = $<HTMLInputElement>("#search-words").value.trim();
    if (words) go({ view: "search", mailbox: route.view === "compose" ? "INBOX" : route.mailbox, query: words });
  });
  const changes = new EventSource("/api/events");
  changes.addEventListener("open", () => $("#live").classList.add("on"));
  changes.addEventListener("error", () => $("#live").classList.remove("on"));
  changes.addEventListener("message", (message: MessageEvent<string>) => onChange(JSON.parse(message.data) as ControlEvent));
  window.addEventListener("hashchange", () => void render());
  await render();
}

void start();
