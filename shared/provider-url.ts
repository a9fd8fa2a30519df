// Which provider addresses the daemon and the setup page accept: https://,
// or plain http:// only for a provider on this machine (a sign-up over
// plain http:// elsewhere would cross the network in the clear).

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

export class InsecureProviderError extends Error {
  constructor(url: string) {
    super(`${url}: a provider must use https:// (plain http:// only for one on this machine, 127.0.0.1 or localhost)`);
    this.name = "InsecureProviderError";
  }
}

/** The parsed URL, or InsecureProviderError (a TypeError for no URL at all). */
export function checkProviderUrl(url: string): URL {
  const parsed = new URL(url);
  const loopback = LOOPBACK_NAMES.has(parsed.hostname) || /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname);
  if (parsed.protocol === "https:" || (parsed.protocol === "http:" && loopback)) return parsed;
  throw new InsecureProviderError(url);
}
