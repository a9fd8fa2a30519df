// Which provider an account belongs to and how to log in there again: one
// row in the account's encrypted store, local to this device (each device
// logs in on its own). Sign-up and a second device's first log-in make it.
import { z } from "zod";
import type { DocumentStore } from "../store/document-store";
import { type ProviderEndpoint, ProviderClient, ProviderSession, srpSecretFor } from "./provider-client";

const linkSchema = z.object({
  url: z.string(),
  ca: z.string().optional(),
  address: z.string(),
  username: z.string(),
  /** The passphrase's SRP derivation (srpSecretFor), so sessions renew
   * without asking for the passphrase. It sits inside the encrypted store. */
  srpSecret: z.string(),
  domain: z.string(),
  submission: z.object({ port: z.number().int(), starttls: z.boolean() }),
});
export type ProviderLink = z.infer<typeof linkSchema>;

const SCHEMA = "CREATE TABLE IF NOT EXISTS provider_link (id INTEGER PRIMARY KEY CHECK (id = 1), link TEXT NOT NULL)";

export function readProviderLink(store: DocumentStore): ProviderLink | null {
  store.sql.exec(SCHEMA);
  const row = store.sql.prepare("SELECT link FROM provider_link WHERE id = 1").get() as { link: string } | undefined;
  return row ? linkSchema.parse(JSON.parse(row.link)) : null;
}

export function writeProviderLink(store: DocumentStore, link: ProviderLink): void {
  store.sql.exec(SCHEMA);
  store.sql.prepare("INSERT OR REPLACE INTO provider_link (id, link) VALUES (1, ?)").run(JSON.stringify(link));
}

/** A session at the link's provider; `current` gives the link as it stands
 * at each log-in (an account's store, where a passphrase change updates it). */
export function sessionFor(link: ProviderLink, current: () => ProviderLink = () => link): ProviderSession {
  return new ProviderSession(new ProviderClient({ url: link.url, ca: link.ca }), () => {
    const { username, srpSecret } = current();
    return { username, srpSecret };
  });
}

export class WrongProviderError extends Error {
  constructor(address: string, domain: string) {
    super(`${address} is not at this provider: it serves addresses @${domain}`);
    this.name = "WrongProviderError";
  }
}

/** The provider's description, checked against the address, and the
 * credential derived from the passphrase: what sign-up and log-in share. */
async function prepareLink(endpoint: ProviderEndpoint, address: string, passphrase: string): Promise<ProviderLink> {
  const client = new ProviderClient(endpoint);
  const info = await client.info();
  const [username, domain] = address.toLowerCase().split("@") as [string, string];
  if (domain !== info.domain.toLowerCase()) throw new WrongProviderError(address, info.domain);
  return {
    url: endpoint.url,
    ca: endpoint.ca,
    address: `${username}@${domain}`,
    username,
    srpSecret: await srpSecretFor(address, passphrase),
    domain,
    submission: info.submission,
  };
}

/** Registers the address with the provider (SRP: the passphrase never leaves). */
export async function signUpAtProvider(endpoint: ProviderEndpoint, address: string, passphrase: string): Promise<ProviderLink> {
  const link = await prepareLink(endpoint, address, passphrase);
  await new ProviderClient(endpoint).signUp(link.username, link.srpSecret);
  return link;
}

/** Logs in (a second device, or a first one after a sign-up elsewhere) and
 * fetches the secrets blob: null when the provider holds none yet. */
export async function logInAtProvider(
  endpoint: ProviderEndpoint,
  address: string,
  passphrase: string,
): Promise<{ link: ProviderLink; secretsBlob: string | null }> {
  const link = await prepareLink(endpoint, address, passphrase);
  return { link, secretsBlob: await sessionFor(link).secrets() };
}
