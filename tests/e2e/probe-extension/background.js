// The test probe: a separate, test-only add-on (never part of the .xpi that
// ships). The end-to-end test copies it into the throwaway profile with a
// config.json naming a loopback URL that holds a random secret; the probe
// long-polls that URL for commands, runs each through Thunderbird's own
// WebExtension APIs (accounts, folders, messages, compose) and posts back
// what it found. It reads only what Thunderbird shows the user.
/* global messenger */
"use strict";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function accountOf(address) {
  const wanted = address.toLowerCase();
  for (const account of await messenger.accounts.list(false)) {
    const identity = account.identities.find((candidate) => candidate.email.toLowerCase() === wanted);
    if (identity) return { account, identity };
  }
  throw new Error(`no Thunderbird account has the identity ${address}`);
}

async function folderOf(address, specialUse) {
  const { account } = await accountOf(address);
  const [folder] = await messenger.folders.query({ accountId: account.id, specialUse: [specialUse] });
  if (!folder) throw new Error(`${address} has no ${specialUse} folder in Thunderbird`);
  return folder;
}

/** Every text/plain body in a MIME tree from messages.getFull. */
function plainBodies(part) {
  const own = part.contentType === "text/plain" && typeof part.body === "string" ? [part.body] : [];
  return own.concat(...(part.parts ?? []).map(plainBodies));
}

const handlers = {
  async accounts() {
    return (await messenger.accounts.list(false)).map((account) => ({ id: account.id, type: account.type, identities: account.identities.map((identity) => identity.email) }));
  },

  /** The messages Thunderbird lists in a folder (headers only, as the message list shows them). */
  async listMessages({ address, specialUse }) {
    const folder = await folderOf(address, specialUse);
    const found = [];
    let page = await messenger.messages.list(folder.id);
    for (;;) {
      for (const message of page.messages) found.push({ id: message.id, subject: message.subject, author: message.author, headerMessageId: message.headerMessageId });
      if (!page.id) break;
      page = await messenger.messages.continueList(page.id);
    }
    return { folder: folder.path, messages: found };
  },

  /** One message as Thunderbird reads it from the server: its headers and plain-text body. */
  async readMessage({ id }) {
    const full = await messenger.messages.getFull(id);
    return { headers: full.headers, bodies: plainBodies(full) };
  },

  /** Composes and sends through the compose API, as the account's identity. */
  async send({ from, to, subject, body }) {
    const { identity } = await accountOf(from);
    const tab = await messenger.compose.beginNew({ identityId: identity.id, to: [to], subject, plainTextBody: body, isPlainText: true });
    const sent = await messenger.compose.sendMessage(tab.id, { mode: "sendNow" });
    return { mode: sent.mode, headerMessageIds: (sent.messages ?? []).map((message) => message.headerMessageId) };
  },
};

async function serve() {
  const config = await (await fetch(browser.runtime.getURL("config.json"))).json();
  for (;;) {
    let command;
    try {
      const response = await fetch(`${config.url}/next`, { cache: "no-store" });
      if (response.status === 204) continue; // nothing asked within the poll's time
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      command = await response.json();
    } catch {
      await sleep(250); // the test is not listening (yet, or any more)
      continue;
    }
    let reply;
    try {
      const handler = handlers[command.method];
      if (!handler) throw new Error(`unknown method ${command.method}`);
      reply = { id: command.id, result: await handler(command.params ?? {}) };
    } catch (error) {
      reply = { id: command.id, error: String(error?.message ?? error) };
    }
    await fetch(`${config.url}/reply`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(reply) }).catch(() => undefined);
  }
}

serve().catch((error) => console.error("bitmask test probe:", error));
