// The privileged half of the add-on (an Experiment API, parent process): no
// WebExtension API creates accounts, so this does it with MailServices, the
// way Thunderbird's own account wizard does (CreateInBackend.sys.mjs).
//
// configureAccount is idempotent: it finds our account by type, host and
// user name, never by key, so a restart or a second call changes only what
// differs. Facts it relies on are in docs/THUNDERBIRD.md:
// the incoming server's host attribute is `hostname` on ESR 153 and
// `hostName` on 140 (where `hostname` reads null); removing a login is removeLoginAsync on 153 and
// removeLogin on 140; passwords live in the login manager under
// `imap://HOST` and `smtp://HOST` (origin and realm), never in prefs.js.

// The XPCOM surface used here, typed loosely: these objects come from C++
// and JS modules whose exact shape varies by ESR.
type Folder = {
  server: IncomingServer;
  getFlag(flag: number): boolean;
  clearFlag(flag: number): void;
  getFolderWithFlags(flags: number): Folder | null;
  descendants: Folder[];
  updateFolder(window: null): void;
};
type IncomingServer = {
  key: string;
  type: string;
  username: string;
  hostname?: string;
  hostName?: string;
  port: number;
  socketType: number;
  authMethod: number;
  password: string;
  prettyName: string;
  loginAtStartUp: boolean;
  valid: boolean;
  rootFolder: Folder;
  serverURI: string;
  setStringValue(name: string, value: string): void;
  setBoolValue(name: string, value: boolean): void;
  closeCachedConnections(): void;
  performExpand(window: null): void;
};
type OutgoingServer = {
  key: string;
  type: string;
  username: string;
  authMethod: number;
  socketType: number;
  password: string;
  description: string;
  closeCachedConnections?(): void;
  QueryInterface(iid: unknown): SmtpServer;
};
type SmtpServer = OutgoingServer & { hostname: string; port: number };
type Identity = {
  email: string;
  fullName: string;
  valid: boolean;
  smtpServerKey: string;
  [folderUriAttribute: string]: unknown;
};
type MailAccount = { key: string; incomingServer: IncomingServer | null; identities: Identity[]; addIdentity(identity: Identity): void };
type LoginInfo = { username: string; password: string; init(...fields: (string | null)[]): void };

type BitmaskEndpoint = { host: string; port: number };
type AccountConfig = { address: string; imap: BitmaskEndpoint; smtp?: BitmaskEndpoint; token: string };
type ConfigureResult = { accountKey: string; created: boolean; tokenChanged: boolean };

type Services = {
  logins: {
    searchLoginsAsync(match: { origin: string; httpRealm: string }): Promise<LoginInfo[]>;
    addLoginAsync(login: LoginInfo): Promise<unknown>;
    removeLoginAsync?(login: LoginInfo): Promise<void>;
    removeLogin(login: LoginInfo): void;
  };
  prefs: { savePrefFile(file: null): void };
};
type MailServicesModule = {
  MailServices: {
    accounts: {
      accounts: MailAccount[];
      defaultAccount: MailAccount | null;
      createIncomingServer(user: string, host: string, type: string): IncomingServer;
      createIdentity(): Identity;
      createAccount(): MailAccount;
      saveAccountInfo(): void;
    };
    outgoingServer: { servers: OutgoingServer[]; createServer(type: string): OutgoingServer; defaultServer: OutgoingServer | null };
  };
};
type ExtensionApiClass = new (extension: unknown) => { getAPI(context: unknown): unknown };

declare const ChromeUtils: { importESModule(url: string): MailServicesModule };
declare const Services: Services;
declare const Ci: {
  nsMsgSocketType: { plain: number };
  nsMsgAuthMethod: { passwordCleartext: number };
  nsMsgFolderFlags: { Inbox: number; Offline: number };
  nsISmtpServer: unknown;
  nsILoginInfo: unknown;
};
declare const Cc: Record<string, { createInstance(iid: unknown): LoginInfo }>;
declare const ExtensionCommon: { ExtensionAPI: ExtensionApiClass };
declare const ExtensionUtils: { ExtensionError: new (message: string) => Error };

const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");

/** `hostname` on ESR 153, `hostName` on 140: reading the wrong one made a duplicate account. */
function hostOf(server: IncomingServer): string | undefined {
  return server.hostname ?? server.hostName;
}

function sameUser(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function findIncoming(config: AccountConfig): MailAccount | undefined {
  return MailServices.accounts.accounts.find((account) => {
    const server = account.incomingServer;
    return server?.type === "imap" && hostOf(server) === config.imap.host && sameUser(server.username, config.address);
  });
}

function findOutgoing(address: string, host: string): SmtpServer | undefined {
  for (const server of MailServices.outgoingServer.servers) {
    if (server.type !== "smtp") continue;
    const smtp = server.QueryInterface(Ci.nsISmtpServer);
    if (smtp.hostname === host && sameUser(smtp.username ?? "", address)) return smtp;
  }
  return undefined;
}

/** Sets the first attribute name this ESR knows (folder URIs were renamed). */
function setFolderUri(identity: Identity, names: string[], uri: string): void {
  const name = names.find((candidate) => candidate in identity) ?? names[0]!;
  identity[name] = uri;
}

/** The settings we own, applied on creation and on every later call, so a
 * user's edit of these (or an older add-on's account) is brought back. */
function applyIncomingSettings(server: IncomingServer, port: number): void {
  server.port = port;
  server.socketType = Ci.nsMsgSocketType.plain;
  server.authMethod = Ci.nsMsgAuthMethod.passwordCleartext;
  // A stale stored token must not raise a login dialog before the add-on
  // has put the current one in place: the add-on logs in itself.
  server.loginAtStartUp = false;
  // No plaintext copy of mail bodies in the profile (as LEAP's add-on).
  // The pref itself: `offlineDownload` is an attribute of the server on 153
  // but only of nsIImapIncomingServer on 140.
  server.setBoolValue("offline_download", false);
  server.setStringValue("trash_folder_name", "Trash");
  clearOfflineFlags(server);
}

function clearOfflineFlags(server: IncomingServer): void {
  for (const folder of server.rootFolder.descendants) {
    if (folder.getFlag(Ci.nsMsgFolderFlags.Offline)) folder.clearFlag(Ci.nsMsgFolderFlags.Offline);
  }
}

function applyOutgoingSettings(smtp: SmtpServer, address: string, endpoint: BitmaskEndpoint): void {
  smtp.hostname = endpoint.host;
  smtp.port = endpoint.port;
  smtp.username = address;
  smtp.socketType = Ci.nsMsgSocketType.plain;
  smtp.authMethod = Ci.nsMsgAuthMethod.passwordCleartext;
  smtp.description = `Bitmask ${address}`;
}

function createAccount(config: AccountConfig): MailAccount {
  const server = MailServices.accounts.createIncomingServer(config.address, config.imap.host, "imap");
  server.prettyName = config.address;
  applyIncomingSettings(server, config.imap.port);
  server.valid = true;
  const identity = MailServices.accounts.createIdentity();
  identity.email = config.address;
  identity.fullName = config.address.split("@")[0]!;
  identity.valid = true;
  const account = MailServices.accounts.createAccount();
  account.addIdentity(identity);
  // The incoming server last, as the wizard does: setting it announces the account.
  account.incomingServer = server;
  if (!MailServices.accounts.defaultAccount) MailServices.accounts.defaultAccount = account;
  return account;
}

function applyIdentitySettings(account: MailAccount, smtp: SmtpServer | undefined): void {
  const server = account.incomingServer!;
  const base = `${server.serverURI}/`;
  for (const identity of account.identities) {
    setFolderUri(identity, ["fccFolderURI", "fccFolder"], `${base}Sent`);
    setFolderUri(identity, ["draftsFolderURI", "draftFolder"], `${base}Drafts`);
    identity.fccFolderPickerMode = "0";
    identity.draftsFolderPickerMode = "0";
    if (smtp) identity.smtpServerKey = smtp.key;
  }
}

/** Puts the token in the login manager under `origin` unless it is there
 * already; answers whether it changed. */
async function storeToken(origin: string, username: string, token: string): Promise<boolean> {
  const stored = (await Services.logins.searchLoginsAsync({ origin, httpRealm: origin })).filter((login) =>
    sameUser(login.username, username),
  );
  if (stored.length === 1 && stored[0]!.password === token) return false;
  for (const login of stored) {
    if (Services.logins.removeLoginAsync) await Services.logins.removeLoginAsync(login);
    else Services.logins.removeLogin(login);
  }
  const login = Cc["@mozilla.org/login-manager/loginInfo;1"]!.createInstance(Ci.nsILoginInfo);
  login.init(origin, null, origin, username, token, "", "");
  await Services.logins.addLoginAsync(login);
  return true;
}

/** Opens INBOX, which logs in: the server does not log in at startup by
 * itself (login_at_startup is off), so this is the first login of a run. */
function logIn(server: IncomingServer): void {
  const inbox = server.rootFolder.getFolderWithFlags(Ci.nsMsgFolderFlags.Inbox);
  if (inbox) inbox.updateFolder(null);
  else server.performExpand(null);
}

async function configureAccount(config: AccountConfig): Promise<ConfigureResult> {
  let account = findIncoming(config);
  const created = !account;
  account ??= createAccount(config);
  const server = account.incomingServer!;
  applyIncomingSettings(server, config.imap.port);

  let smtp: SmtpServer | undefined;
  if (config.smtp) {
    smtp = findOutgoing(config.address, config.smtp.host);
    if (!smtp) {
      smtp = MailServices.outgoingServer.createServer("smtp").QueryInterface(Ci.nsISmtpServer);
      if (!MailServices.outgoingServer.defaultServer) MailServices.outgoingServer.defaultServer = smtp;
    }
    applyOutgoingSettings(smtp, config.address, config.smtp);
  }
  applyIdentitySettings(account, smtp);
  MailServices.accounts.saveAccountInfo();
  Services.prefs.savePrefFile(null);

  const imapChanged = await storeToken(`imap://${config.imap.host}`, config.address, config.token);
  const smtpChanged = config.smtp ? await storeToken(`smtp://${config.smtp.host}`, config.address, config.token) : false;
  const tokenChanged = imapChanged || smtpChanged;
  // The servers cache the password in memory and keep logged-in connections:
  // both must go, or Thunderbird keeps using (and then asking for) the old token.
  if (tokenChanged || server.password !== config.token) {
    server.password = config.token;
    server.closeCachedConnections();
  }
  if (smtp && smtpChanged) {
    smtp.password = config.token;
    smtp.closeCachedConnections?.();
  }
  logIn(server);
  return { accountKey: account.key, created, tokenChanged };
}

// Experiment scripts define their API as a global named in the manifest's
// `paths`; `this` at top level of the script is that global.
(globalThis as unknown as { bitmask: ExtensionApiClass }).bitmask = class extends ExtensionCommon.ExtensionAPI {
  override getAPI() {
    return {
      bitmask: {
        // Only an ExtensionError's message reaches the add-on; anything else
        // arrives as "An unexpected error occurred", which helps no one.
        configureAccount: (config: AccountConfig) =>
          configureAccount(config).catch((error: Error) => {
            throw new ExtensionUtils.ExtensionError(`configureAccount: ${error.message ?? String(error)}`);
          }),
      },
    };
  }
};
