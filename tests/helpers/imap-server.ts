// A real IMAP server on 127.0.0.1, port 0, over a temp encrypted account.
import { ImapFlow } from "imapflow";
import { tokenAuthenticator } from "../../native-host/auth/authenticator";
import { MailTokens } from "../../native-host/auth/mail-token";
import { ImapServer } from "../../native-host/imap/server";
import { DEFAULT_TIMEOUTS, type SessionEvent, type SessionTimeouts } from "../../native-host/imap/session";
import { openTempAccount } from "./temp-store";

export const ADDRESS = "alice@example.org";

export async function startImap(timeouts: Partial<SessionTimeouts> = {}) {
  const temp = await openTempAccount();
  const tokens = new MailTokens(temp.store);
  const token = tokens.current();
  const events: SessionEvent[] = [];
  const server = new ImapServer(
    {
      authenticate: tokenAuthenticator(ADDRESS, tokens, temp.account),
      onEvent: (event) => events.push(event),
    },
    { ...DEFAULT_TIMEOUTS, ...timeouts },
  );
  const { port } = await server.listen({ port: 0 });
  const clients: ImapFlow[] = [];
  return {
    ...temp,
    port,
    token,
    tokens,
    events,
    /** A connected, logged-in imapflow client. */
    async client(options: { qresync?: boolean } = {}) {
      const client = new ImapFlow({
        host: "127.0.0.1",
        port,
        secure: false,
        auth: { user: ADDRESS, pass: token },
        logger: false,
        qresync: options.qresync ?? false,
      });
      await client.connect();
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) await client.logout().catch(() => client.close());
      await server.close();
      temp.close();
    },
  };
}
