// SPF, DKIM and DMARC of incoming mail (mailauth), evaluated on what Postfix
// forwarded about the client (XFORWARD: its address and HELO name) and the
// envelope sender. The result becomes the Authentication-Results field
// (RFC 8601) whose authserv-id is our domain; a DMARC failure under a
// p=reject policy refuses the message.
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import { authenticate, type DNSResolver } from "mailauth";
import { AUTHENTICATION_DNS_TIMEOUT_MS } from "./limits";

export type ClientFacts = { ip: string | undefined; helo: string | undefined; sender: string };

export type Verdict = {
  /** Authentication-Results (and Received-SPF), CRLF-terminated, to prepend. */
  fields: string;
  /** Why the sending domain's DMARC policy asks us to refuse it, or null. */
  refusal: string | null;
};

export type Authenticator = (raw: Buffer, client: ClientFacts) => Promise<Verdict>;

/** `dnsServers`: "ip" or "ip:port" entries; the system's resolver when empty. */
export function createAuthenticator(authservId: string, dnsServers: readonly string[] = []): Authenticator {
  const resolver = new Resolver({ timeout: AUTHENTICATION_DNS_TIMEOUT_MS, tries: 1 });
  if (dnsServers.length > 0) resolver.setServers([...dnsServers]);
  const resolve = ((name: string, type: string) => resolver.resolve(name, type)) as DNSResolver;
  return async (raw, client) => {
    const result = await authenticate(raw, {
      ip: client.ip !== undefined && isIP(client.ip) ? client.ip : undefined,
      helo: client.helo,
      sender: client.sender,
      mta: authservId,
      resolver: resolve,
      disableArc: true,
      disableBimi: true,
    });
    const dmarc = result.dmarc;
    const refusal = dmarc && dmarc.status.result === "fail" && dmarc.policy === "reject" ? `5.7.1 Refused by the DMARC policy of ${dmarc.domain}` : null;
    return { fields: result.headers, refusal };
  };
}
