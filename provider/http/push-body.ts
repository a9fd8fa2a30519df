// Streaming reader for the sync push body, so a batch of large documents is
// never held twice: bytes are scanned as they arrive, and each document is
// parsed and decoded to bytes as soon as it is complete. The body must be
// exactly `{"docs":[ {...}, ... ]}` (any JSON whitespace); each element is
// parsed with JSON.parse and checked against the shared pushDoc schema.
import { pushDoc } from "../../shared/provider-api";
import type { DocToStore } from "../storage/sync-store";
import { HttpError, parseOr400 } from "./http-io";

const enum Expect {
  ObjectOpen,
  Key,
  Colon,
  ArrayOpen,
  FirstElementOrClose,
  Element,
  InElement,
  CommaOrClose,
  ObjectClose,
  Nothing,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const KEY = Buffer.from('"docs"');

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export class PushBodyReader {
  private state = Expect.ObjectOpen;
  private keyMatched = 0;
  // Inside an element:
  private depth = 0;
  private inString = false;
  private escaped = false;
  private parts: Buffer[] = [];
  readonly docs: DocToStore[] = [];

  constructor(private readonly maxDocs: number) {}

  feed(chunk: Buffer): void {
    // Next backslash at or after the scan position, found once per chunk
    // region rather than once per string.
    let nextBackslash = -2;
    let i = 0;
    while (i < chunk.length) {
      if (this.state === Expect.InElement) {
        const start = i;
        while (i < chunk.length) {
          if (this.inString) {
            if (this.escaped) {
              this.escaped = false;
              i++;
              continue;
            }
            if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = chunk.indexOf(BACKSLASH, i);
            const quote = chunk.indexOf(QUOTE, i);
            if (nextBackslash !== -1 && (quote === -1 || nextBackslash < quote)) {
              this.escaped = true;
              i = nextBackslash + 1;
            } else if (quote === -1) {
              i = chunk.length;
            } else {
              this.inString = false;
              i = quote + 1;
            }
            continue;
          }
          const byte = chunk[i++];
          if (byte === QUOTE) this.inString = true;
          else if (byte === 0x7b || byte === 0x5b) this.depth++;
          else if (byte === 0x7d || byte === 0x5d) {
            this.depth--;
            if (this.depth === 0) {
              this.parts.push(chunk.subarray(start, i));
              this.finishElement();
              break;
            }
          }
        }
        if (this.state === Expect.InElement) this.parts.push(chunk.subarray(start, i));
        continue;
      }
      const byte = chunk[i] as number;
      if (this.state === Expect.Key) {
        if (this.keyMatched === 0 && isWhitespace(byte)) {
          i++;
          continue;
        }
        if (byte !== KEY[this.keyMatched]) throw malformed();
        if (++this.keyMatched === KEY.length) this.state = Expect.Colon;
        i++;
        continue;
      }
      i++;
      if (isWhitespace(byte)) continue;
      switch (this.state) {
        case Expect.ObjectOpen:
          this.expect(byte, 0x7b, Expect.Key);
          break;
        case Expect.Colon:
          this.expect(byte, 0x3a, Expect.ArrayOpen);
          break;
        case Expect.ArrayOpen:
          this.expect(byte, 0x5b, Expect.FirstElementOrClose);
          break;
        case Expect.FirstElementOrClose:
          if (byte === 0x5d) this.state = Expect.ObjectClose;
          else i = this.startElement(byte, i);
          break;
        case Expect.Element:
          i = this.startElement(byte, i);
          break;
        case Expect.CommaOrClose:
          if (byte === 0x2c) this.state = Expect.Element;
          else this.expect(byte, 0x5d, Expect.ObjectClose);
          break;
        case Expect.ObjectClose:
          this.expect(byte, 0x7d, Expect.Nothing);
          break;
        default:
          throw malformed();
      }
    }
  }

  /** Call at the end of the body: throws when it was cut short. */
  end(): DocToStore[] {
    if (this.state !== Expect.Nothing) throw malformed();
    return this.docs;
  }

  private expect(byte: number, wanted: number, next: Expect): void {
    if (byte !== wanted) throw malformed();
    this.state = next;
  }

  /** Returns where scanning resumes: at the element's opening brace, which
   * is part of its text. */
  private startElement(byte: number, next: number): number {
    if (byte !== 0x7b) throw new HttpError(400, "docs must be objects");
    if (this.docs.length === this.maxDocs) throw new HttpError(413, `more than ${this.maxDocs} documents in one push`);
    this.state = Expect.InElement;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.parts = [];
    return next - 1;
  }

  private finishElement(): void {
    const text = Buffer.concat(this.parts).toString("utf8");
    this.parts = [];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw malformed();
    }
    const doc = parseOr400(pushDoc, value);
    // The ciphertext is kept as bytes from here on; the base64url text goes.
    this.docs.push({ id: doc.id, rev: doc.rev, expectedRev: doc.expectedRev, data: Buffer.from(doc.data, "base64url") });
    this.state = Expect.CommaOrClose;
  }
}

function malformed(): HttpError {
  return new HttpError(400, 'push body must be {"docs":[...]} JSON');
}
