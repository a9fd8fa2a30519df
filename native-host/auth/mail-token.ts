// The mail token: the password Thunderbird (or any client) gives the local
// IMAP and SMTP servers. One per account, in the encrypted store (it syncs,
// so every device accepts the same token), never in a file of its own.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { DocumentStore } from "../store/document-store";
import { FAILED_LOGIN_DELAY_MS } from "../limits";

const TOKEN_DOC_ID = "mail-token";
/** 160 random bits, base64url: above the 128-bit floor of docs/DESIGN.md, easy to paste. */
const TOKEN_BYTES = 20;

export class MailTokens {
  constructor(private readonly store: DocumentStore) {}

  /** The current token, created on first use. */
  current(): string {
    return this.store.transaction(() => this.store.get(TOKEN_DOC_ID, "token")?.content?.token ?? this.rotate());
  }

  /** Replaces the token; the old one stops working at once. */
  rotate(): string {
    const token = randomBytes(TOKEN_BYTES).toString("base64url");
    this.store.put("token", TOKEN_DOC_ID, { token, created: Date.now() });
    return token;
  }

  /** Constant-time comparison: hashing both sides first makes the compared
   * lengths equal, so neither content nor length leaks through timing. */
  matches(candidate: string): boolean {
    const expected = this.store.get(TOKEN_DOC_ID, "token")?.content?.token;
    if (!expected) return false;
    const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
    return timingSafeEqual(digest(candidate), digest(expected));
  }

  /** What the servers call: a wrong token answers only after a delay, which
   * makes guessing slow without blocking other clients. */
  async verify(candidate: string): Promise<boolean> {
    if (this.matches(candidate)) return true;
    await sleep(FAILED_LOGIN_DELAY_MS);
    return false;
  }
}
