// The add-on's background: connects to the native host, asks for the
// daemon's accounts and, through the Experiment API, keeps Thunderbird's
// account for each one in step with it (created once, token updated when it
// rotates). Its pages (popup, setup) reach the daemon through here.
import browser from "webextension-polyfill";
import type { AccountStatus, DaemonStatus } from "../shared/control-api";
import { HostError, NativeHost } from "./native-host";
import { STATUS_CHANGED, type PageReply, type PageRequest, type StatusView } from "./messages";

type ConfigureResult = { accountKey: string; created: boolean; tokenChanged: boolean };
type BitmaskExperiment = {
  configureAccount(config: {
    address: string;
    imap: { host: string; port: number };
    smtp?: { host: string; port: number };
    token: string;
  }): Promise<ConfigureResult>;
};
const experiment = (browser as unknown as { bitmask: BitmaskExperiment }).bitmask;

let connected = false;
let problem: string | null = "connecting to bitmaskd";
let setupShown = false;

const host = new NativeHost((event) => {
  switch (event.event) {
    case "daemon":
      connected = event.state === "connected";
      problem = connected ? null : (event.message ?? "bitmaskd is not reachable");
      if (connected) void serially(configureAll);
      notifyPages();
      break;
    case "token-rotated":
    case "account-unlocked":
      void serially(() => configureOne(event.address));
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
  if (status.accounts.length === 0 && !setupShown) {
    // Nothing to serve yet: sign up or log in (the setup page also unlocks
    // accounts the daemon lists as locked).
    setupShown = true;
    await openSetupPage();
  }
}

/** In a small window of its own, like a dialog. Not a tab: at a first
 * start with no account, ESR 140 keeps its main window from add-ons while
 * its own account wizard is up, and a new tab would wait for it. */
async function openSetupPage(): Promise<void> {
  await browser.windows.create({ url: browser.runtime.getURL("setup.html"), type: "popup", width: 560, height: 560 });
}

async function configureOne(address: string): Promise<void> {
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
  await browser.windows.create({ url: browser.runtime.getURL("popup.html"), type: "popup", width: 520, height: 300 });
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
      return { connected, problem: (error as Error).message, status: null };
    }
  }
  return { connected, problem, status };
}

async function answer(request: PageRequest): Promise<PageReply> {
  try {
    switch (request.type) {
      case "status":
        break;
      case "create":
        await host.request("account.create", {
          address: request.address,
          passphrase: request.passphrase,
          ...(request.provider ? { provider: request.provider } : {}),
        });
        break;
      case "login":
        await host.request("account.login", {
          address: request.address,
          passphrase: request.passphrase,
          ...(request.provider ? { provider: request.provider } : {}),
        });
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

browser.runtime.onMessage.addListener((message: unknown) => {
  const request = message as PageRequest;
  if (typeof request?.type !== "string" || request.type === (STATUS_CHANGED as string)) return undefined;
  return answer(request);
});

host.connect();
