// RFC 5322 address lists as IMAP's ENVELOPE wants them (RFC 3501 7.4.2):
// each mailbox becomes (name adl mailbox host), a group becomes a start
// marker (NIL NIL "group name" NIL), its members and an end marker
// (NIL NIL NIL NIL).
//
// Real headers are often broken, and there is no RFC for reading broken
// ones, so the parser follows Dovecot's lenient reader rule for rule: words
// and comments as in RFC 5322 3.2, obsolete forms (3.4, 4.4) accepted, and
// placeholders instead of NIL where a part is missing, because a NIL host
// would turn the address into a group marker. Display names stay as written
// (RFC 2047 encoded words are not decoded).

import { HeaderValueCursor, type Step, isAtext } from "./header-value-cursor";

export type EnvelopeAddress = {
  name: string | null;
  route: string | null;
  mailbox: string | null;
  host: string | null;
};

const MISSING_MAILBOX = "MISSING_MAILBOX";
const MISSING_DOMAIN = "MISSING_DOMAIN";
const SYNTAX_ERROR = "SYNTAX_ERROR";
const INVALID_ROUTE = "INVALID_ROUTE";

/** The address grammar's steps over a header value (RFC 5322 3.4, with RFC 822's leniency). */
class Cursor extends HeaderValueCursor {
  /** dot-atom, allowing CFWS around the dots as RFC 822 did, and a
   * trailing dot ("user.@host"). */
  dotAtom(): { step: Step; text: string } {
    if (this.atEnd || !isAtext(this.codeAt(this.position))) return { step: -1, text: "" };
    let text = "";
    let start = this.position++;
    while (!this.atEnd) {
      if (isAtext(this.codeAt(this.position))) {
        this.position++;
        continue;
      }
      text += this.text.slice(start, this.position);
      const step = this.skipCfws();
      if (step <= 0) return { step, text };
      if (this.peek() !== ".") return { step: 1, text };
      this.position++;
      text += ".";
      const afterDot = this.skipCfws();
      if (afterDot <= 0) return { step: afterDot, text };
      start = this.position;
    }
    return { step: 0, text: text + this.text.slice(start) };
  }

  /** Atoms with dots in them (obs-phrase), then CFWS. */
  private atomOrDots(): { step: Step; text: string } {
    const start = this.position;
    while (!this.atEnd && (isAtext(this.codeAt(this.position)) || this.peek() === ".")) this.position++;
    const text = this.text.slice(start, this.position);
    return { step: this.atEnd ? 0 : this.skipCfws(), text };
  }

  /** phrase (RFC 5322 3.2.5 and obs-phrase 4.1): words joined by one space. */
  phrase(): { step: Step; text: string } {
    if (this.atEnd) return { step: 0, text: "" };
    if (this.peek() === ".") return { step: -1, text: "" };
    let text = "";
    for (;;) {
      const word = this.peek() === '"' ? this.quotedString() : this.atomOrDots();
      text += word.text;
      if (word.step <= 0) return { step: word.step, text };
      const next = this.peek();
      if (!isAtext(this.codeAt(this.position)) && next !== '"' && next !== ".") break;
      text += " ";
    }
    return { step: this.skipCfws(), text };
  }

  /** "@" domain: a dot-atom or a domain literal "[...]" kept with brackets. */
  domain(): { step: Step; text: string } {
    this.position++; // the "@"
    if (this.skipCfws() <= 0) return { step: -1, text: "" };
    if (this.peek() !== "[") return this.dotAtom();
    const start = this.position;
    for (; !this.atEnd; this.position++) {
      if (this.peek() === "\\") {
        this.position++;
        if (this.atEnd) break;
      } else if (this.peek() === "]") {
        this.position++;
        const text = this.text.slice(start, this.position);
        return { step: this.atEnd ? 0 : this.skipCfws(), text };
      }
    }
    return { step: -1, text: "" }; // unclosed literal
  }
}

type Draft = EnvelopeAddress & { invalid: boolean };

const emptyDraft = (): Draft => ({ name: null, route: null, mailbox: null, host: null, invalid: false });

class AddressListParser {
  readonly addresses: EnvelopeAddress[] = [];
  private draft = emptyDraft();

  constructor(private readonly cursor: Cursor) {}

  private emit(): void {
    const { name, route, mailbox, host } = this.draft;
    this.addresses.push({ name, route, mailbox, host });
    this.draft = emptyDraft();
  }

  /** Emits a mailbox, filling what is missing so it cannot read as a group marker. */
  private emitMailbox(): void {
    if (this.draft.mailbox === null) this.draft.mailbox = MISSING_MAILBOX;
    if (this.draft.host === null || this.draft.host === "") this.draft.host = MISSING_DOMAIN;
    this.emit();
  }

  private localPart(): Step {
    const part = this.cursor.peek() === '"' ? this.cursor.quotedString() : this.cursor.dotAtom();
    if (part.step < 0) return -1;
    this.draft.mailbox = part.text;
    return part.step;
  }

  private domain(): Step {
    const domain = this.cursor.domain();
    if (domain.step < 0) return -1;
    this.draft.host = domain.text;
    return domain.step;
  }

  /** obs-route: "@" domain *("," "@" domain) before the ":" in an angle address. */
  private route(): Step {
    const cursor = this.cursor;
    let route = "";
    for (;;) {
      if (cursor.atEnd) return 0;
      if (cursor.peek() !== "@") break;
      if (route) route += ",";
      const domain = cursor.domain();
      route += "@" + domain.text;
      if (domain.step <= 0) return domain.step;
      while (cursor.skipCfws() > 0 && cursor.peek() === ",") cursor.position++;
    }
    this.draft.route = route;
    return 1;
  }

  /** "<" [route ":"] [local-part ["@" domain]] ">" */
  private angleAddress(): Step {
    const cursor = this.cursor;
    cursor.position++;
    if (cursor.skipCfws() <= 0) return -1;
    if (cursor.peek() === "@") {
      if (this.route() > 0 && cursor.peek() === ":") cursor.position++;
      else {
        this.draft.route = INVALID_ROUTE;
        if (cursor.atEnd) return -1;
      }
      if (cursor.skipCfws() <= 0) return -1;
    }
    if (cursor.peek() !== ">") {
      if (this.localPart() <= 0) return -1;
      if (cursor.peek() === "@" && this.domain() <= 0) return -1;
    }
    if (cursor.peek() !== ">") return -1;
    cursor.position++;
    return cursor.skipCfws();
  }

  /** name-addr: [display-name] angle-addr */
  private nameAddress(): Step {
    const cursor = this.cursor;
    const phrase = cursor.phrase();
    if (phrase.step <= 0 || cursor.peek() !== "<") return -1;
    this.draft.name = phrase.text === "" ? null : phrase.text;
    if (this.angleAddress() < 0) {
      this.draft.host = SYNTAX_ERROR;
      this.draft.invalid = true;
    }
    return cursor.atEnd ? 0 : 1;
  }

  /** addr-spec, also accepting a bare word (a local user) and "addr (Name)". */
  private addrSpec(): Step {
    const cursor = this.cursor;
    cursor.lastComment = "";
    const quoted = cursor.peek() === '"';
    let step = this.localPart();
    let domainStep: Step | null = null;
    if (step <= 0) this.draft.invalid = true;
    if (step !== 0 && !cursor.atEnd && cursor.peek() === "@") {
      domainStep = this.domain();
      if (domainStep <= 0) step = domainStep;
    }
    if (cursor.lastComment !== "") {
      this.draft.name = cursor.lastComment;
    } else if (domainStep === null) {
      // A lone word is a local mailbox; more words after it make a display name.
      const words = (this.draft.mailbox ?? "") + " ";
      const rest = cursor.phrase();
      if (rest.text !== "") {
        this.draft.mailbox = null;
        this.draft.name = words + rest.text;
      } else if (!quoted) {
        this.draft.host = "";
      }
      this.draft.invalid = true;
      step = -1;
    }
    return step;
  }

  private mailbox(): Step {
    const cursor = this.cursor;
    const start = cursor.position;
    let step = this.nameAddress();
    if (step < 0) {
      cursor.position = start;
      this.draft = emptyDraft();
      step = this.addrSpec();
      const draft = this.draft;
      if (draft.invalid && draft.name === null && draft.mailbox !== null && draft.host === null) {
        draft.name = draft.mailbox;
        draft.mailbox = null;
      }
    }
    this.emitMailbox();
    return step;
  }

  /** group: display-name ":" [mailbox-list] ";" */
  private group(): Step {
    const cursor = this.cursor;
    const phrase = cursor.phrase();
    if (phrase.step <= 0 || cursor.peek() !== ":") return -1;
    cursor.position++;
    let step = cursor.skipCfws();
    this.draft.mailbox = phrase.text;
    this.emit();
    if (step > 0 && cursor.peek() !== ";") {
      for (;;) {
        this.mailbox(); // a broken member does not end the group
        if (cursor.atEnd || cursor.peek() !== ",") break;
        cursor.position++;
        if (cursor.skipCfws() <= 0) {
          step = -1;
          break;
        }
      }
    }
    if (step >= 0) {
      if (cursor.atEnd || cursor.peek() !== ";") step = -1;
      else {
        cursor.position++;
        step = cursor.skipCfws();
      }
    }
    this.draft = emptyDraft();
    this.emit(); // the end-of-group marker
    return step === 0 ? 0 : 1;
  }

  private address(): Step {
    const start = this.cursor.position;
    const step = this.group();
    if (step >= 0) return step;
    this.cursor.position = start;
    this.draft = emptyDraft();
    return this.mailbox();
  }

  parseList(): void {
    const cursor = this.cursor;
    if (cursor.skipCfws() <= 0) return;
    for (;;) {
      if (this.address() === 0) return;
      if (cursor.atEnd || cursor.peek() !== ",") return;
      cursor.position++;
      const step = cursor.skipCfws();
      if (step <= 0) {
        if (step < 0) this.emitMailbox(); // ends in garbage
        return;
      }
    }
  }
}

/** Parses an address-list header value (a binary string, folding included). */
export function parseAddressList(value: string): EnvelopeAddress[] {
  const parser = new AddressListParser(new Cursor(value));
  parser.parseList();
  return parser.addresses;
}
