// Building RFC 3156 PGP/MIME messages: multipart/signed (sign only) and
// multipart/encrypted (signed and encrypted in one OpenPGP message, RFC 3156
// section 6.2), both with protected headers (draft-ietf-lamps-header-protection,
// "protected-headers=v1" as Thunderbird and Autocrypt clients read it): the
// inner part carries every header field of the message, so the real Subject
// and the other fields are signed, and inside encryption hidden.
import * as openpgp from "openpgp";
import {
  type Entity,
  type RawField,
  contentTypeOf,
  fieldValue,
  findField,
  formatEntity,
  isContentField,
  isNamed,
  multipartBody,
  newBoundary,
  newField,
  parseEntity,
  toCrlf,
} from "./mime-entity";
import { sevenBitSafe } from "./seven-bit";

/** What stands in for the Subject outside the encryption (the draft's choice). */
export const HIDDEN_SUBJECT = "...";

/** The fields left visible outside an encrypted message: only what delivery,
 * threading and replying need before the recipient decrypts. */
const OUTER_FIELDS_OF_ENCRYPTED = ["From", "To", "Cc", "Reply-To", "Date", "Message-ID", "In-Reply-To", "References"];

/** RFC 3156 multipart/signed: the message's body and header fields in the
 * signed part, 7-bit safe so relays cannot break the signature. */
export async function signMessage(message: Uint8Array, signingKey: openpgp.PrivateKey): Promise<Buffer> {
  const { fields, body } = parseEntity(toCrlf(message));
  const signedPart = sevenBitSafe(formatEntity(protectedPart({ fields, body })));
  const armoredSignature = await openpgp.sign({
    message: await openpgp.createMessage({ binary: signedPart }),
    signingKeys: signingKey,
    detached: true,
    format: "armored",
  });
  const hash = await micalgHash(armoredSignature);
  const boundary = newBoundary();
  const signaturePart = formatEntity({
    fields: [
      newField("Content-Type", 'application/pgp-signature; name="signature.asc"'),
      newField("Content-Description", "OpenPGP digital signature"),
      newField("Content-Disposition", 'attachment; filename="signature.asc"'),
    ],
    body: toCrlf(Buffer.from(armoredSignature, "latin1")),
  });
  return formatEntity({
    fields: [
      ...headerFields(fields),
      newField("MIME-Version", "1.0"),
      newField(
        "Content-Type",
        `multipart/signed; micalg="pgp-${hash}"; protocol="application/pgp-signature"; boundary="${boundary}"`,
      ),
    ],
    body: multipartBody(boundary, "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)", [signedPart, signaturePart]),
  });
}

/** RFC 3156 multipart/encrypted, signed inside: the whole message with its
 * header fields is encrypted to `encryptionKeys` and signed by `signingKey`;
 * outside remain the few fields delivery needs and Subject "...". */
export async function signAndEncryptMessage(
  message: Uint8Array,
  signingKey: openpgp.PrivateKey,
  encryptionKeys: openpgp.PublicKey[],
): Promise<Buffer> {
  const { fields, body } = parseEntity(toCrlf(message));
  const inner = formatEntity(protectedPart({ fields, body }));
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: inner }),
    encryptionKeys,
    signingKeys: signingKey,
    format: "armored",
  });
  const boundary = newBoundary();
  const versionPart = formatEntity({
    fields: [
      newField("Content-Type", "application/pgp-encrypted"),
      newField("Content-Description", "PGP/MIME version identification"),
    ],
    body: Buffer.from("Version: 1\r\n", "latin1"),
  });
  const encryptedPart = formatEntity({
    fields: [
      newField("Content-Type", 'application/octet-stream; name="encrypted.asc"'),
      newField("Content-Description", "OpenPGP encrypted message"),
      newField("Content-Disposition", 'inline; filename="encrypted.asc"'),
    ],
    body: toCrlf(Buffer.from(armored, "latin1")),
  });
  const outer = headerFields(fields).filter((field) => OUTER_FIELDS_OF_ENCRYPTED.some((name) => isNamed(field, name)));
  return formatEntity({
    fields: [
      ...outer,
      newField("Subject", HIDDEN_SUBJECT),
      newField("MIME-Version", "1.0"),
      newField("Content-Type", `multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${boundary}"`),
    ],
    body: multipartBody(boundary, "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)", [versionPart, encryptedPart]),
  });
}

/** The signature's hash name for micalg (RFC 3156 section 5: "pgp-" and the
 * lower-case name), read from the signature made, not assumed. */
async function micalgHash(armoredSignature: string): Promise<string> {
  const signature = await openpgp.readSignature({ armoredSignature });
  const algorithm = signature.packets[0]?.hashAlgorithm;
  if (algorithm === undefined || algorithm === null) throw new Error("the signature names no hash algorithm");
  return openpgp.enums.read(openpgp.enums.hash, algorithm).replace("_", "-");
}

/** True for a message that is already PGP/MIME encrypted (RFC 3156 section 4). */
export function isEncryptedMessage(message: Uint8Array): boolean {
  const { fields } = parseEntity(toCrlf(message));
  const type = contentTypeOf(fields);
  return type.type === "multipart" && type.subtype === "encrypted";
}

/** The inner part: every header field of the message, then its Content-*
 * fields with protected-headers="v1" added to the Content-Type, then its body. */
function protectedPart({ fields, body }: Entity): Entity {
  const contentType = findField(fields, "Content-Type");
  const typeValue = contentType ? fieldValue(contentType) : "text/plain; charset=us-ascii";
  return {
    fields: [
      ...headerFields(fields),
      newField("Content-Type", `${typeValue}; protected-headers="v1"`),
      ...fields.filter((field) => isContentField(field) && !isNamed(field, "Content-Type")),
    ],
    body,
  };
}

/** The message's own header fields: not MIME-Version, not Content-* (those
 * describe the body, which becomes the inner part). */
function headerFields(fields: readonly RawField[]): RawField[] {
  return fields.filter((field) => !isContentField(field) && !isNamed(field, "MIME-Version"));
}
