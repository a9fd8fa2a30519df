// The login check both local servers use: the account's address (any case)
// and its current mail token. A wrong pair is answered after the token
// check's failure delay, whichever half was wrong, so neither leaks.
import type { MailTokens } from "./mail-token";

export type Authenticate<T> = (username: string, password: string) => Promise<T | null>;

export function tokenAuthenticator<T>(address: string, tokens: MailTokens, account: T): Authenticate<T> {
  const expected = address.toLowerCase();
  return async (username, password) => {
    const tokenMatches = await tokens.verify(password);
    if (!tokenMatches) return null;
    if (username.toLowerCase() !== expected) {
      await tokens.verify("");
      return null;
    }
    return account;
  };
}
