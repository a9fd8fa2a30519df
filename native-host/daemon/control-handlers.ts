// The control API's methods (shared/control-api.ts) on the daemon. Errors
// become ControlFailure codes a client can act on (bitmaskctl turns them
// into exit codes, the add-on into its setup page).
import { ControlFailure, type ControlHandlers } from "../control/errors";
import { AccountExistsError, NoAccountError } from "../store/account-store";
import { WrongPassphraseError } from "../store/secrets";
import { readSettings, updateSettings } from "../store/settings";
import { LoginRefusedError, ProviderRefusedError, type ProviderEndpoint } from "../sync/provider-client";
import { WrongProviderError } from "../sync/provider-link";
import { ProviderUnavailableError } from "../sync/transport";
import { AccountLockedError, NoSuchAccountError, WebReaderOffError, type Daemon } from "./daemon";
import { mailHandlers } from "./mail-handlers";

/** Runs `work`, translating the daemon's own errors into coded failures. */
async function coded<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ControlFailure) throw error;
    const message = (error as Error).message;
    if (error instanceof AccountLockedError) throw new ControlFailure("locked", message);
    if (error instanceof NoSuchAccountError || error instanceof NoAccountError) throw new ControlFailure("no-account", message);
    if (error instanceof AccountExistsError) throw new ControlFailure("exists", message);
    if (error instanceof WrongPassphraseError || error instanceof LoginRefusedError) throw new ControlFailure("wrong-passphrase", message);
    if (error instanceof ProviderUnavailableError || error instanceof WebReaderOffError) throw new ControlFailure("unavailable", message);
    if (error instanceof ProviderRefusedError && error.status === 409) throw new ControlFailure("exists", message);
    if (error instanceof ProviderRefusedError || error instanceof WrongProviderError) throw new ControlFailure("failed", message);
    throw error;
  }
}

function unavailable(what: string): never {
  throw new ControlFailure("unavailable", `${what} is not running in this daemon yet`);
}

function endpoint(url: string | undefined, ca: string | undefined): ProviderEndpoint | undefined {
  return url === undefined ? undefined : { url, ca };
}

/** Every handler of `handlers` with the daemon's errors coded. */
function codedHandlers<H extends Partial<ControlHandlers>>(handlers: H): H {
  const entries = Object.entries(handlers).map(([method, handler]) => [method, (params: unknown) => coded(() => (handler as (p: unknown) => unknown)(params))]);
  return Object.fromEntries(entries) as H;
}

export function controlHandlers(daemon: Daemon): ControlHandlers {
  return {
    ...codedHandlers(mailHandlers(daemon)),
    "web.open_link": ({ address }) => coded(() => daemon.webLoginLink(address)),
    status: () => daemon.status(),
    "mail.get_token": ({ address }) =>
      coded(() => {
        const account = daemon.account(address);
        return { address: account.address, token: account.tokens.current() };
      }),
    "mail.rotate_token": ({ address }) => coded(() => daemon.rotateToken(address)),
    "mail.status": ({ address }) => coded(() => daemon.account(address).status()),
    "mail.errors": ({ address }) => coded(() => [...daemon.account(address).errors]),
    "mail.always_encrypt": ({ address, on }) =>
      coded(() => {
        const account = daemon.account(address);
        const settings = on === undefined ? readSettings(account.store) : updateSettings(account.store, { alwaysEncrypt: on });
        return { address: account.address, alwaysEncrypt: settings.alwaysEncrypt };
      }),
    "keys.list": ({ address }) => coded(() => (daemon.account(address).keys ?? unavailable("the keymanager")).list()),
    "keys.export": async ({ address, keyAddress }) => {
      const keys = await coded(() => daemon.account(address).keys ?? unavailable("the keymanager"));
      return { armored: await keys.exportPublic(keyAddress) };
    },
    "keys.import": ({ address, armored }) =>
      coded(() => (daemon.account(address).keys ?? unavailable("the keymanager")).importPublic(armored)),
    sync: ({ address }) =>
      coded(async () => {
        const account = daemon.account(address);
        const sync = account.sync ?? unavailable("sync");
        if (daemon.offline) throw new ControlFailure("unavailable", "the daemon is offline: `bitmaskctl offline off` first");
        return sync.syncNow((done, total) => daemon.emitEvent({ event: "sync-progress", address: account.address, done, total }));
      }),
    stop: () => {
      daemon.requestStop();
      return { pid: process.pid };
    },
    offline: ({ offline }) => {
      daemon.setOffline(offline);
      return { offline: daemon.offline };
    },
    "account.create": ({ address, passphrase, provider, providerCa, keyType }) =>
      coded(async () => (await daemon.createAccount(address, passphrase, endpoint(provider, providerCa), keyType)).status()),
    "account.login": ({ address, passphrase, provider, providerCa }) =>
      coded(async () => (await daemon.unlockAccount(address, passphrase, endpoint(provider, providerCa))).status()),
    "account.passphrase": ({ address, passphrase, newPassphrase }) =>
      coded(async () => {
        await daemon.changePassphrase(address, passphrase, newPassphrase);
        return { address: address.toLowerCase() };
      }),
  };
}
