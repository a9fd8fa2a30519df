// Reading the passphrase: from BITMASK_PASSPHRASE for scripts, else from a
// prompt on the terminal with echo off. Never from a file or an argument
// (arguments are visible to every user in the process list).
import { stdin, stderr } from "node:process";

export const PASSPHRASE_ENV = "BITMASK_PASSPHRASE";
/** The new passphrase for `bitmaskctl account passphrase`. */
export const NEW_PASSPHRASE_ENV = "BITMASK_NEW_PASSPHRASE";

export class NoPassphraseError extends Error {
  constructor(envName = PASSPHRASE_ENV) {
    super(`no passphrase: set ${envName} or run on a terminal to be asked`);
    this.name = "NoPassphraseError";
  }
}

export async function readPassphrase(prompt: string, envName = PASSPHRASE_ENV): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  if (!stdin.isTTY) throw new NoPassphraseError(envName);
  stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  let typed = "";
  try {
    for await (const chunk of stdin as AsyncIterable<Buffer>) {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return typed;
        if (char === "\u0003") throw new Error("cancelled");
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else typed += char;
      }
    }
    return typed;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    stderr.write("\n");
  }
}
