// A cursor over one structured header value (a binary string), shared by the
// address parser (ENVELOPE) and the MIME parameter reader (BODYSTRUCTURE).
// Parsing steps answer a number: negative on a syntax error, zero at the
// end of the input, positive when more follows.

/** atext of RFC 5322 3.2.3, plus every 8-bit byte (raw UTF-8 and legacy
 * charsets appear in real headers). */
export function isAtext(code: number): boolean {
  if (code >= 0x80) return true;
  if (code >= 0x30 && code <= 0x39) return true; // digits
  if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) return true; // letters
  return "!#$%&'*+-/=?^_`{|}~".includes(String.fromCharCode(code));
}

export type Step = number;

/** Skips blanks, line breaks and comments between tokens (CFWS), and
 * remembers the text of the last comment, which names an address written
 * as "addr (Name)". */
export class HeaderValueCursor {
  position = 0;
  lastComment = "";

  constructor(readonly text: string) {}

  get atEnd(): boolean {
    return this.position >= this.text.length;
  }

  /** The current character, or "" at the end. A method, not a getter, so
   * that TypeScript does not narrow it across the cursor's moves. */
  peek(): string {
    return this.text[this.position] ?? "";
  }

  codeAt(position: number): number {
    return this.text.charCodeAt(position);
  }

  skipCfws(): Step {
    while (!this.atEnd) {
      const char = this.peek();
      if (char === " " || char === "\t" || char === "\r" || char === "\n") {
        this.position++;
        continue;
      }
      if (char !== "(") break;
      if (this.skipComment() < 0) return -1;
    }
    return this.atEnd ? 0 : 1;
  }

  private skipComment(): Step {
    let depth = 1;
    let comment = "";
    this.position++;
    for (; !this.atEnd; this.position++) {
      const char = this.peek();
      if (char === "(") depth++;
      else if (char === ")" && --depth === 0) {
        this.lastComment = comment;
        this.position++;
        return this.atEnd ? 0 : 1;
      } else if (char === "\\") {
        this.position++;
        if (this.atEnd) return -1;
        comment += this.peek();
        continue;
      }
      comment += char;
    }
    return -1; // unclosed comment
  }

  /** The longest run of accepted characters (possibly empty), then CFWS. */
  run(accepts: (code: number) => boolean): { step: Step; text: string } {
    const start = this.position;
    while (!this.atEnd && accepts(this.codeAt(this.position))) this.position++;
    const text = this.text.slice(start, this.position);
    return { step: this.atEnd ? 0 : this.skipCfws(), text };
  }

  /** atom: 1*atext, then CFWS. */
  atom(): { step: Step; text: string } {
    if (this.atEnd || !isAtext(this.codeAt(this.position))) return { step: -1, text: "" };
    return this.run(isAtext);
  }

  /** quoted-string: the content without quotes, quoted-pairs resolved and
   * folding line breaks removed; then CFWS. */
  quotedString(): { step: Step; text: string } {
    let text = "";
    for (this.position++; !this.atEnd; this.position++) {
      const char = this.peek();
      if (char === '"') {
        this.position++;
        return { step: this.atEnd ? 0 : this.skipCfws(), text };
      }
      if (char === "\n") {
        if (text.endsWith("\r")) text = text.slice(0, -1);
        continue;
      }
      if (char === "\\") {
        this.position++;
        if (this.atEnd) return { step: -1, text };
      }
      text += this.peek();
    }
    return { step: -1, text }; // unclosed quote
  }
}
