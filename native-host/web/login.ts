// Log-in to the web reader: a one-time link carries a random secret that a
// browser exchanges, once, for a session (an HttpOnly, SameSite=Strict
// cookie); each session has its own CSRF token for the API's requests.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { LOGIN_LINK_TTL_MS, MAX_PENDING_LOGIN_LINKS, MAX_SESSIONS, SESSION_IDLE_MS } from "./limits";

export type Session = { id: string; address: string; csrf: string; lastUsed: number };

/** 32 random bytes, URL-safe: unguessable, fits a link and a cookie. */
function secret(): string {
  return randomBytes(32).toString("base64url");
}

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class Logins {
  /** secret -> the account it opens and when it expires; Maps keep insertion order, oldest first. */
  private readonly links = new Map<string, { address: string; expires: number }>();
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new one-time secret for `address`. */
  newLink(address: string): string {
    const value = secret();
    this.links.set(value, { address, expires: this.now() + LOGIN_LINK_TTL_MS });
    while (this.links.size > MAX_PENDING_LOGIN_LINKS) this.links.delete(this.links.keys().next().value!);
    return value;
  }

  /** The session a link's secret opens, or null when it is unknown, used or expired. The secret is gone either way. */
  redeem(value: string): Session | null {
    const link = this.links.get(value);
    this.links.delete(value);
    if (!link || link.expires < this.now()) return null;
    const session: Session = { id: secret(), address: link.address, csrf: secret(), lastUsed: this.now() };
    this.sessions.set(session.id, session);
    while (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return session;
  }

  /** The live session with this id, kept alive by the use. */
  session(id: string | undefined): Session | null {
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session) return null;
    if (session.lastUsed + SESSION_IDLE_MS < this.now()) {
      this.sessions.delete(session.id);
      return null;
    }
    session.lastUsed = this.now();
    return session;
  }
}
