// The add-on's background: connects to the native host, asks for the
// daemon's accounts and, through the Experiment API, keeps Thunderbird's
// account for each one in step with it (created once, token updated when it
// rotates). While bitmaskd is unreachable it keeps trying (native-host.ts);
// while an account is locked it offers its own unlock page, never
// Thunderbird's password dialog. Its pages (popup, setup) reach the daemon
// through here.
import browser from "webextension-polyfill";
import type { AccountStatus, DaemonStatus } from "../shared/control-api";
import { HostError, NativeHost } from "./native-host";
import { STATUS_CHANGED, type PageReply, type PageRequest, type StatusView } from "./messages";
import { describeMessageSecurity } from "./message-security";

type ConfigureResult = { accountKey: string; created: boolean; tokenChanged: boolean };
type BitmaskExperiment = {
  configureAccount(config: {
    address: string;
    imap: { host: string; port: number };
    smtp?: { host: string; port: number };
    token: string;
  }): Promise<ConfigureResult>;
  onLockedLogin: { addListener(listener: (address: string) => void): void };
};
const experiment = (browser as unknown as { bitmask: BitmaskExperiment }).bitmask;

let connected = false;
let problem: string | null = "connecting to bitmaskd";
let retryAt: number | null = null;
/** The setup page's window while it is open: brought forward, never opened twice. */
let setupWindow: number | null = null;
/** Locked accounts the setup page was already opened for, so a restart of
 * the daemon (or a second Get Messages) does not open it again and again. */
const unlockOffered = new Set<string>();
/** With no account at all, the setup page opens by itself once per run. */
let signUpOffered = false;

const host = new NativeHost((event) => {
  switch (event.event) {
    case "daemon":
      connected = event.state === "connected";
      problem = connected ? null : (event.message ?? "bitmaskd is not reachable");
      retryAt = event.retryAt ?? null;
      if (connected) void serially(configureAll);
      notifyPages();
      break;
    case "token-rotated":
    case "account-unlocked":
      void serially(() => configureOne(event.address));
      notifyPages();
      break;
    case "status-changed":
    case "sync-progress":
      notifyPages();
      break;
  }
});

/** One configuration at a time: a rotation during start-up must not race it. */
let queue: Promise<void> = Promise.resolve();
function serially(work: () => Promise<void>): Promise<void> {
  queue = queue.then(work).catch((error: Error) => {
    problem = error.message;
    console.error("bitmask:", error);
    notifyPages();
  });
  return queue;
}

async function configureAll(): Promise<void> {
  const status = await host.request("status", {});
  for (const account of status.accounts) await configure(account);
  problem = null;
  const newlyLocked = status.locked.filter((address) => !unlockOffered.has(address));
  // Nothing to serve yet (sign up or log in), or accounts to unlock.
  const nothing = status.accounts.length + status.locked.length === 0;
  if ((nothing && !signUpOffered) || newlyLocked.length > 0) {
    signUpOffered ||= nothing;
    for (const address of newlyLocked) unlockOffered.add(address);
    await openSetupPage();
  }
}

/** In a small window of its own, like a dialog. Not a tab: at a first
 * start with no account, ESR 140 keeps its main window from add-ons while
 * its own account wizard is up, and a new tab would wait for it. */
async function openSetupPage(): Promise<void> {
  if (setupWindow !== null) {
    try {
      await browser.windows.update(setupWindow, { focused: true });
      notifyPages();
      return;
    } catch {
      setupWindow = null; // closed meanwhile
    }
  }
  const created = await browser.windows.create({ url: browser.runtime.getURL("setup.html"), type: "popup", width: 560, height: 640 });
  setupWindow = created.id ?? null;
}

browser.windows.onRemoved.addListener((id) => {
  if (id === setupWindow) setupWindow = null;
});

// Thunderbird tried to log in to a locked account (Get Messages, a check
// for new mail): its alert was taken by the experiment; offer the unlock.
experiment.onLockedLogin.addListener((address) => {
  unlockOffered.add(address.toLowerCase());
  void openSetupPage();
});

async function configureOne(address: string): Promise<void> {
  unlockOffered.delete(address);
  await configure(await host.request("mail.status", { address }));
}

async function configure(account: AccountStatus): Promise<void> {
  const { token } = await host.request("mail.get_token", { address: account.address });
  const result = await experiment.configureAccount({
    address: account.address,
    imap: account.imap,
    ...(account.smtp ? { smtp: account.smtp } : {}),
    token,
  });
  if (result.created) await showPopup();
}

/** A new account is announced by opening the popup, which shows its
 * address and key fingerprint. Where the toolbar button is not shown (on
 * ESR 140 Thunderbird's own account-setup tab covers it at first start),
 * the same page opens in a small window instead. */
async function showPopup(): Promise<void> {
  const action = (browser as unknown as { action?: { openPopup(): Promise<unknown> } }).action ?? browser.browserAction;
  try {
    if ((await action.openPopup()) !== false) return;
  } catch (error) {
    console.warn("bitmask: could not open the popup, opening a window:", error);
  }
  await browser.windows.create({ url: browser.runtime.getURL("popup.html"), type: "popup", width: 520, height: 360 });
}

function notifyPages(): void {
  browser.runtime.sendMessage({ type: STATUS_CHANGED }).catch(() => {
    // No page is open: nobody to tell.
  });
}

async function view(): Promise<StatusView> {
  let status: DaemonStatus | null = null;
  if (connected) {
    try {
      status = await host.request("status", {});
    } catch (error) {
      return { connected, problem: (error as Error).message, retryAt, status: null };
    }
  }
  return { connected, problem, retryAt, status };
}

const withProvider = (request: { provider?: string; providerCa?: string }) => ({
  ...(request.provider ? { provider: request.provider } : {}),
  ...(request.providerCa ? { providerCa: request.providerCa } : {}),
});

async function answer(request: PageRequest): Promise<PageReply> {
  try {
    switch (request.type) {
      case "status":
        break;
      case "retry":
        host.retryNow();
        break;
      case "open-setup":
        await openSetupPage();
        break;
      case "certificate": {
        const certificate = await host.request("provider.certificate", { provider: request.provider });
        return { ok: true, view: await view(), certificate };
      }
      case "create":
        await host.request("account.create", { address: request.address, passphrase: request.passphrase, ...withProvider(request) });
        break;
      case "login":
        await host.request("account.login", { address: request.address, passphrase: request.passphrase, ...withProvider(request) });
        break;
      case "sync":
        await host.request("sync", { address: request.address });
        break;
      case "open-web-mail": {
        const { url } = await host.request("web.open_link", { address: request.address });
        // Thunderbird's own API (not in the polyfill's types): the system's browser, not a Thunderbird tab.
        await (browser.windows as unknown as { openDefaultBrowser(url: string): Promise<void> }).openDefaultBrowser(url);
        break;
      }
    }
    return { ok: true, view: await view() };
  } catch (error) {
    return { ok: false, error: error instanceof HostError ? error.message : String(error) };
  }
}

// Thunderbird's own message APIs (not in the Firefox typings).
type DisplayedMessage = { id: number; folder?: { accountId: string } };
type Thunderbird = {
  messageDisplay: {
    onMessagesDisplayed: { addListener(listener: (tab: { id: number }, displayed: { messages: DisplayedMessage[] }) => void): void };
  };
  messages: { getFull(id: number): Promise<{ headers: Record<string, string[]> }> };
  accounts: { get(id: string): Promise<{ identities: { email: string }[] } | null> };
  messageDisplayAction: { setLabel(details: { label: string; tabId: number }): Promise<void>; setTitle(details: { title: string; tabId: number }): Promise<void> };
};
const thunderbird = browser as unknown as Thunderbird;

/** Shows, on the message's toolbar button, whether it arrived encrypted and who signed it. */
async function showMessageSecurity(tabId: number, message: DisplayedMessage): Promise<void> {
  const { headers } = await thunderbird.messages.getFull(message.id);
  const account = message.folder ? await thunderbird.accounts.get(message.folder.accountId) : null;
  const address = account?.identities[0]?.email;
  // The key list says at which level the signer's key is trusted; an account
  // that is not ours (or a locked one) has none, and the text says so.
  const keys = address && connected ? await host.request("keys.list", { address }).catch(() => []) : [];
  const text = describeMessageSecurity(headers, keys);
  await thunderbird.messageDisplayAction.setLabel({ label: text, tabId });
  await thunderbird.messageDisplayAction.setTitle({ title: `Bitmask Mail: ${text}`, tabId });
}

// (Manifest V3: the list form; one message shown is the case that has a header to annotate.)
thunderbird.messageDisplay.onMessagesDisplayed.addListener((tab, displayed) => {
  const [message] = displayed.messages;
  if (displayed.messages.length === 1 && message) {
    showMessageSecurity(tab.id, message).catch((error: Error) => console.error("bitmask: message security:", error));
  }
});

browser.runtime.onMessage.addListener((message: unknown) => {
  const request = message as PageRequest;
  if (typeof request?.type !== "string" || request.type === (STATUS_CHANGED as string)) return undefined;
  return answer(request);
});

host.connect();
