// A refusal the gateway gives its client: basic code, RFC 3463 enhanced code
// and text, e.g. "550 5.7.1 no encryption key for bob@example.net".

export class SmtpReplyError extends Error {
  constructor(
    readonly code: number,
    readonly enhanced: string,
    text: string,
  ) {
    super(text);
    this.name = "SmtpReplyError";
  }

  get reply(): string {
    return `${this.code} ${this.enhanced} ${this.message}`;
  }

  /** The error in the form smtp-server's callbacks take. smtp-server adds an
   * enhanced code of its own choosing to a numeric responseCode (5.1.1 for
   * every 550); given the code and our enhanced code as one string, it finds
   * no mapping and writes them as they are. tests/integration/smtp-gateway
   * checks the exact replies, so a change in smtp-server would show there. */
  toServerError(): Error & { responseCode: unknown } {
    return Object.assign(new Error(this.message), { responseCode: `${this.code} ${this.enhanced}` });
  }
}
