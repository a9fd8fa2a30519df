// DKIM signature of outgoing mail for the provider's domain (mailauth's
// signer), so receivers can tie the mail to the domain (and DMARC passes).
import { dkimSign } from "mailauth";

export type MessageSigner = (message: Buffer) => Promise<Buffer>;

/** Header fields signed: the ones a reader sees and replies by; a signer
 * oversigns (lists twice) From and Subject so none can be added later. */
const SIGNED_FIELDS = ["From", "From", "To", "Cc", "Subject", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Autocrypt"];

export function dkimSigner(domain: string, selector: string, privateKey: string): MessageSigner {
  return async (message) => {
    const { signatures, errors } = await dkimSign(message, {
      // mailauth reads the keys from signatureData only.
      signatureData: [{ signingDomain: domain, selector, privateKey }],
      signingDomain: domain,
      selector,
      privateKey,
      canonicalization: "relaxed/relaxed",
      headerList: SIGNED_FIELDS,
    });
    if (errors.length > 0 || !signatures.startsWith("DKIM-Signature:")) throw new Error(`DKIM signing failed: ${errors.map((error) => error.message).join("; ")}`);
    return Buffer.concat([Buffer.from(signatures, "latin1"), message]);
  };
}
