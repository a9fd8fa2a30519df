// What runs for each unlocked account in the full daemon: the keymanager
// and its refresher, the SMTP sender (outbox, retry queue, bounces) and, for
// an account with a provider, the provider loop (sync, then incoming mail).
// The daemon's SMTP gateway finds the sender through the service's `sender`.
import type { KeyListing } from "../../shared/control-api";
import { HttpKeyDirectory } from "../keys/key-directory";
import { AccountKeyManager } from "../keys/keymanager";
import { startKeyRefresher } from "../keys/refresher";
import { WkdClient } from "../keys/wkd";
import { type Bounce, deliverBounce } from "../smtp/bounce";
import { type Sender, type SmtpEvent, SmtpGateway } from "../smtp/gateway";
import { Outbox } from "../smtp/outbox";
import { OutgoingQueue } from "../smtp/outgoing-queue";
import { RelayError, type SubmissionRelay, SmtpSubmissionRelay } from "../smtp/relay";
import { readSettings } from "../store/settings";
import { readProviderLink, sessionFor } from "../sync/provider-link";
import type { ProviderSession } from "../sync/provider-client";
import { ProviderLoop, type ProviderLoopOptions } from "./provider-loop";
import type { AccountContext, AccountService, DaemonServices, KeysControl, SmtpGatewayFactory } from "./services";

export type AccountServiceOptions = ProviderLoopOptions & {
  /** Key refresh period; default the refresher's. */
  keyRefreshMs?: number;
  /** Web Key Directory lookups over HTTPS; tests, which have no internet, pass their own. */
  wkd?: WkdClient;
};

/** Everything: the SMTP gateway, and per account the keys, sender and provider loop. */
export function fullServices(options: AccountServiceOptions = {}): DaemonServices {
  return { smtp: startSmtpGateway, perAccount: [accountService(options)] };
}

const startSmtpGateway: SmtpGatewayFactory = async ({ port, authenticate, log }) => {
  const gateway = new SmtpGateway({ authenticate, onEvent: (event) => logSmtpEvent(log, event) });
  return { port: await gateway.listen(port), close: () => gateway.close() };
};

/** Who logged in, what was refused and how much went out: never content. */
function logSmtpEvent(log: AccountContext["log"], event: SmtpEvent): void {
  if (event.type === "login") log.info({ session: event.session, user: event.username }, "smtp login");
  else if (event.type === "login-failed") log.warn({ session: event.session, user: event.username }, "smtp login failed");
  else if (event.type === "refused") log.info({ session: event.session, reply: event.reply }, "smtp refused");
  else if (event.type === "sent") {
    const { delivered, queued, bounced } = event.outcome;
    log.info({ session: event.session, encrypted: event.encrypted, signedOnly: event.signedOnly, delivered: delivered.length, queued: queued.length, bounced: bounced.length }, "smtp sent");
  } else log.error({ session: event.session, error: (event.error as Error)?.message }, "smtp error");
}

function accountService(options: AccountServiceOptions) {
  return async (context: AccountContext): Promise<AccountService> => {
    const { store, address, log } = context;
    const link = readProviderLink(store);
    const session = link ? sessionFor(link, () => readProviderLink(store) ?? link) : null;
    const keys = new AccountKeyManager({
      store,
      address,
      directory: link ? new HttpKeyDirectory({ baseUrl: link.url, domain: link.domain, ca: link.ca }) : null,
      session: () => {
        const token = session?.currentToken();
        return token ? { address, token } : null;
      },
      wkd: options.wkd ?? new WkdClient(),
      log,
    });
    // A second device gets the account's key from the first sync; a key made
    // before it would be a second own key. Local accounts make theirs now.
    if (!link) await keys.ensureOwnKey(readSettings(store).keyAlgorithm);

    const relay: SubmissionRelay = link && session ? providerRelay(link, session) : noRelay(address);
    const bounce = (failed: Bounce) => deliverBounce(context.mail, failed);
    const queue = new OutgoingQueue({ store, relay, bounce, onError: (error) => context.reportError("smtp", (error as Error).message) });
    queue.start();
    const sender: Sender = {
      address,
      keys,
      alwaysEncrypt: () => readSettings(store).alwaysEncrypt,
      outbox: new Outbox(relay, queue, bounce),
    };

    const loop = link && session ? new ProviderLoop(context, session, keys, options) : null;
    loop?.start();
    const refresher = startKeyRefresher(keys, {
      intervalMs: options.keyRefreshMs,
      onReport: (report) => {
        for (const problem of report.problems) context.reportError("keys", problem);
        if (report.ownKeyExtended) context.statusChanged();
      },
      onError: (error) => context.reportError("keys", (error as Error).message),
    });
    return {
      name: "account",
      sync: loop ?? undefined,
      keys: keysControl(keys),
      sender,
      async stop() {
        await loop?.stop();
        await refresher.stop();
        await queue.stop();
      },
    };
  };
}

function keysControl(keys: AccountKeyManager): KeysControl {
  const listing = (key: ReturnType<AccountKeyManager["listKeys"]>[number]): KeyListing => ({
    address: key.address,
    fingerprint: key.fingerprint,
    own: key.own,
    validation: key.validation,
    expires: key.expires,
  });
  return {
    ownFingerprint: () => keys.ownFingerprint(),
    list: async () => keys.listKeys().map(listing),
    exportPublic: (address) => keys.exportPublicKey(address),
    async importPublic(armored) {
      const imported = await keys.importKey(armored);
      const found = keys.listKeys().find((key) => key.fingerprint === imported.fingerprint);
      if (!found) throw new Error("the key was imported but is not listed");
      return listing(found);
    },
  };
}

/** Submission over STARTTLS with the session's token, fetched fresh for each message. */
function providerRelay(link: NonNullable<ReturnType<typeof readProviderLink>>, session: ProviderSession): SubmissionRelay {
  const host = new URL(link.url).hostname.replace(/^\[|\]$/g, "");
  const smtp = new SmtpSubmissionRelay({
    host,
    port: link.submission.port,
    tls: "starttls",
    ca: link.ca,
    credential: () => ({ user: link.address, pass: session.currentToken() ?? "" }),
  });
  return {
    async submit(envelope, raw) {
      if (!link.submission.starttls) {
        throw new RelayError("permanent", "the provider's submission service offers no TLS: not sending the session token in the clear");
      }
      try {
        await session.token();
      } catch (error) {
        throw new RelayError("unreachable", `could not log in to the provider: ${(error as Error).message}`, null, { cause: error });
      }
      await smtp.submit(envelope, raw);
    },
  };
}

/** An account without a provider has nowhere to send: the client hears so
 * (a 4xx, so it keeps the message), nothing is lost. */
function noRelay(address: string): SubmissionRelay {
  return {
    submit() {
      return Promise.reject(new RelayError("unreachable", `${address} has no provider to send through`));
    },
  };
}
