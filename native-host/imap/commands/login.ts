// LOGIN and AUTHENTICATE PLAIN with the account address and its mail token.
// A wrong token is answered only after the delay the token check imposes;
// so is a locked account, with NO [UNAVAILABLE].
import { CommandFailure, NOT_AUTHENTICATED, defineCommand, ok } from "../command";
import { capabilities } from "../capabilities";
import type { ImapSession } from "../session";
import { ParseError } from "../protocol/types";
import { LOCKED_LOGIN_TEXT } from "../../../shared/locked-login";

async function logIn(session: ImapSession, username: string, password: string, method: "LOGIN" | "AUTHENTICATE") {
  const account = await session.hooks.authenticate(username, password);
  if (account === "locked") {
    session.emit({ type: "login-locked", session: session.id, username });
    // [UNAVAILABLE], not AUTHENTICATIONFAILED: the token may be right, and
    // Thunderbird shows no password dialog for it (see shared/locked-login.ts).
    throw new CommandFailure(`${username} ${LOCKED_LOGIN_TEXT}`, "UNAVAILABLE");
  }
  if (!account) {
    session.emit({ type: "login-failed", session: session.id, username });
    throw new CommandFailure("invalid address or token", "AUTHENTICATIONFAILED");
  }
  session.account = account;
  session.username = username;
  session.state = "authenticated";
  session.emit({ type: "login", session: session.id, username, method });
  return ok(`${method} completed`, `CAPABILITY ${capabilities(session).join(" ")}`);
}

export const login = defineCommand({
  name: "LOGIN",
  states: NOT_AUTHENTICATED,
  parse(args) {
    const username = args.astring("user name");
    const password = args.astring("password");
    args.end();
    return { username, password };
  },
  run: (session, { username, password }) => logIn(session, username, password, "LOGIN"),
});

/** SASL PLAIN (RFC 4616): authzid NUL authcid NUL password, base64. */
function decodePlain(base64: string): { username: string; password: string } {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new ParseError("AUTHENTICATE PLAIN response is not base64");
  const parts = Buffer.from(base64, "base64").toString("utf8").split("\0");
  if (parts.length !== 3) throw new ParseError("AUTHENTICATE PLAIN response is malformed");
  const [authzid, username, password] = parts as [string, string, string];
  if (authzid && authzid !== username) throw new CommandFailure("authorization identity must be the user itself", "AUTHORIZATIONFAILED");
  return { username, password };
}

export const authenticate = defineCommand({
  name: "AUTHENTICATE",
  states: NOT_AUTHENTICATED,
  parse(args) {
    const mechanism = args.atom("SASL mechanism").toUpperCase();
    const initial = args.remaining > 0 ? args.astring("initial response") : undefined;
    args.end();
    return { mechanism, initial };
  },
  async run(session, { mechanism, initial }) {
    if (mechanism !== "PLAIN") throw new CommandFailure(`unsupported mechanism ${mechanism}`, "CANNOT");
    let response = initial === "=" ? "" : initial;
    if (response === undefined) {
      session.write("+ \r\n");
      const line = await session.nextLine();
      if (line === null) return { status: "BAD", text: "connection closed" };
      response = line.toString("latin1").trim();
      if (response === "*") return { status: "BAD", text: "AUTHENTICATE cancelled" };
    }
    const { username, password } = decodePlain(response);
    return logIn(session, username, password, "AUTHENTICATE");
  },
});
