// No mail byte reaches the disk outside the encrypted database: after storing
// messages that carry a marker, no file in the account folder (database,
// WAL, shared memory, journal, anything else) contains the marker.
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Account } from "../../native-host/mail/account";
import { MailTokens } from "../../native-host/auth/mail-token";
import { createAccountStore } from "../../native-host/store/account-store";
import { messageWithAttachment } from "../helpers/messages";
import { tempDir, unlockAccountStore } from "../helpers/temp-store";
import { filesContaining } from "../helpers/byte-scan";

const MARKER = "ZQXJ-PLAINTEXT-MARKER-7731";

describe("data at rest", () => {
  it("keeps message text, attachments, flags and the token out of every file on disk", async () => {
    const temp = tempDir();
    try {
      const dir = path.join(temp.dir, "alice");
      const store = await createAccountStore(dir, "passphrase");
      const account = Account.open(store);
      const inbox = account.requireMailbox("INBOX");
      const attachment = Buffer.from(`${MARKER} inside the attachment `.repeat(400));
      for (let n = 0; n < 50; n++) {
        const raw = messageWithAttachment(n, attachment, `${MARKER}.txt`);
        inbox.add(Buffer.concat([Buffer.from(`X-Note: ${MARKER}\r\n`), raw]), { flags: [`${MARKER}-keyword`] });
      }
      account.createMailbox(`Folder ${MARKER}`);
      const token = new MailTokens(store).current();
      const needles = [Buffer.from(MARKER), Buffer.from(token), attachment.subarray(0, 40), Buffer.from(attachment.toString("base64").slice(0, 40))];

      // While open, with the WAL and shared-memory files present.
      expect(readdirSync(dir).some((name) => name.endsWith("-wal"))).toBe(true);
      expect(filesContaining(temp.dir, needles)).toEqual([]);
      store.close();
      // After close and checkpoint, and after reopening.
      expect(filesContaining(temp.dir, needles)).toEqual([]);
      const reopened = await unlockAccountStore(dir, "passphrase");
      expect(Account.open(reopened).requireMailbox("INBOX").counts().messages).toBe(50);
      reopened.close();
      expect(filesContaining(temp.dir, needles)).toEqual([]);
    } finally {
      temp.cleanup();
    }
  });
});
