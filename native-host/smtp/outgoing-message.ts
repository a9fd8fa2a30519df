// From the message the client submitted to the copies that leave: for each
// recipient with a key, its own copy signed and encrypted to that key (and
// the sender's, so the sender can read it back); one signed copy for the
// recipients without a key; an already encrypted message as it is. Every
// copy loses its Bcc field and carries the sender's Autocrypt header.
import { randomBytes } from "node:crypto";
import type { PublicKey } from "openpgp";
import type { OwnKey } from "../keys/keymanager-api";
import { isEncryptedMessage, signAndEncryptMessage, signMessage } from "../pgp/build";
import { type RawField, findField, formatEntity, newField, parseEntity, toCrlf, withoutFields } from "../pgp/mime-entity";
import type { Delivery } from "./delivery";

/** A recipient and the key found for it (null: none). */
export type RecipientKey = { address: string; key: PublicKey | null };

export type PreparedMessage = {
  deliveries: Delivery[];
  /** How many recipients get an encrypted copy (their own, or one the client encrypted). */
  encrypted: number;
  signedOnly: number;
  /** False when the client had encrypted the message itself. */
  encryptedByUs: boolean;
};

export async function prepareDeliveries(
  submitted: Buffer,
  sender: OwnKey,
  recipients: readonly RecipientKey[],
  autocryptHeader: string,
): Promise<PreparedMessage> {
  const withAutocrypt = (copy: Buffer) => addAutocrypt(copy, autocryptHeader);
  if (isEncryptedMessage(submitted)) {
    // Encrypted by the client already: it passes through as it is.
    const addresses = recipients.map((recipient) => recipient.address);
    const deliveries = [{ recipients: addresses, message: withAutocrypt(withoutBcc(submitted)) }];
    return { deliveries, encrypted: addresses.length, signedOnly: 0, encryptedByUs: false };
  }
  const message = completedMessage(withoutBcc(submitted), sender.address);
  const deliveries: Delivery[] = [];
  const keyless = recipients.filter((recipient) => recipient.key === null).map((recipient) => recipient.address);
  if (keyless.length > 0) deliveries.push({ recipients: keyless, message: withAutocrypt(await signMessage(message, sender.privateKey)) });
  for (const { address, key } of recipients) {
    if (!key) continue;
    // One copy per recipient: a copy encrypted to several keys would list
    // every recipient's key id, and so reveal Bcc recipients to the others.
    const encrypted = await signAndEncryptMessage(message, sender.privateKey, [key, sender.publicKey]);
    deliveries.push({ recipients: [address], message: withAutocrypt(encrypted) });
  }
  return { deliveries, encrypted: recipients.length - keyless.length, signedOnly: keyless.length, encryptedByUs: true };
}

/** The message without its Bcc field (unchanged when it has none). */
function withoutBcc(message: Buffer): Buffer {
  const canonical = toCrlf(message);
  const { fields, body } = parseEntity(canonical);
  return findField(fields, "Bcc") ? formatEntity({ fields: withoutFields(fields, "Bcc"), body }) : canonical;
}

/** The message with the Date and Message-ID it must have (RFC 5322 3.6; a
 * submission server adds them, RFC 6409 8), so every copy has the same ones. */
function completedMessage(message: Buffer, senderAddress: string): Buffer {
  const { fields, body } = parseEntity(message);
  const added: RawField[] = [];
  if (!findField(fields, "Date")) added.push(newField("Date", new Date().toUTCString().replace("GMT", "+0000")));
  if (!findField(fields, "Message-ID")) {
    const domain = senderAddress.slice(senderAddress.lastIndexOf("@") + 1);
    added.push(newField("Message-ID", `<${randomBytes(16).toString("hex")}@${domain}>`));
  }
  return added.length > 0 ? formatEntity({ fields: [...added, ...fields], body }) : message;
}

/** Adds the Autocrypt header unless the message has one (a client doing its
 * own OpenPGP sends its own). The keymanager gives the value folded. */
function addAutocrypt(message: Buffer, headerValue: string): Buffer {
  const { fields, body } = parseEntity(message);
  if (findField(fields, "Autocrypt")) return message;
  return formatEntity({ fields: [newField("Autocrypt", headerValue), ...fields], body });
}
