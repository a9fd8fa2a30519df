// LOGIN and AUTHENTICATE for an account that waits for its passphrase get
// NO [UNAVAILABLE] (Thunderbird then shows no password dialog; the add-on
// offers its unlock page); an unknown address still gets AUTHENTICATIONFAILED. Once unlocked, the same
// token logs in.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../../native-host/daemon/daemon";
import { LOCKED_LOGIN_TEXT } from "../../shared/locked-login";
import { RawImap } from "../helpers/raw-imap";
import { tempDir } from "../helpers/temp-store";

const ADDRESS = "carol@example.org";
const PASSPHRASE = "a passphrase for carol";
let data: ReturnType<typeof tempDir>;
let daemon: Daemon;
let token: string;

beforeAll(async () => {
  data = tempDir("locked-login-");
  const log = pino({ level: "silent" });
  // Made in one daemon, then a second one on the same folder starts with it locked.
  const first = await startDaemon({ dataDir: data.dir, imapPort: 0, socketPath: null, log });
  token = (await first.createAccount(ADDRESS, PASSPHRASE)).tokens.current();
  await first.stop();
  daemon = await startDaemon({ dataDir: data.dir, imapPort: 0, socketPath: null, log });
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
});

async function answer(tag: string, command: string): Promise<{ text: string }> {
  const client = await RawImap.connect(daemon.imapPort);
  try {
    return { text: await client.command(tag, command) };
  } finally {
    client.close();
  }
}

describe("a login to a locked account", () => {
  it("is answered NO [UNAVAILABLE] with the add-on's words, for LOGIN and AUTHENTICATE PLAIN", async () => {
    expect(daemon.status().locked).toEqual([ADDRESS]);
    expect((await answer("a", `LOGIN ${ADDRESS} ${token}`)).text).toContain(`a NO [UNAVAILABLE] ${ADDRESS} ${LOCKED_LOGIN_TEXT}\r\n`);
    const plain = Buffer.from(`\0${ADDRESS}\0${token}`).toString("base64");
    expect((await answer("b", `AUTHENTICATE PLAIN ${plain}`)).text).toContain(`b NO [UNAVAILABLE] ${ADDRESS} ${LOCKED_LOGIN_TEXT}\r\n`);
  });

  it("is told apart from an unknown address, and works with the same token once unlocked", async () => {
    expect((await answer("c", `LOGIN nobody@example.org ${token}`)).text).toContain("c NO [AUTHENTICATIONFAILED]");
    await daemon.unlockAccount(ADDRESS, PASSPHRASE);
    expect((await answer("d", `LOGIN ${ADDRESS} ${token}`)).text).toMatch(/d OK /);
  });
});
