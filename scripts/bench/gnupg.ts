// gpg as the benches' reference: one process per call, as LEAP ran it, in
// a throwaway GNUPGHOME, without prompts or trust questions.
import { spawnSync } from "node:child_process";

export type Gnupg = (args: string[], input: string | Buffer) => Buffer;

export function gnupgIn(home: string): Gnupg {
  const env = { ...process.env, GNUPGHOME: home };
  return (args, input) => {
    const run = spawnSync("gpg", ["--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "", "--trust-model", "always", ...args], {
      env,
      input,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.error) throw new Error(`cannot run gpg (the reference of this bench): ${run.error.message}`);
    if (run.status !== 0) throw new Error(`gpg ${args.join(" ")} failed: ${run.stderr.toString()}`);
    return run.stdout;
  };
}

/** gpg leaves an agent running per GNUPGHOME: stop it before removing the folder. */
export function stopGnupgAgent(home: string): void {
  spawnSync("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: home } });
}
