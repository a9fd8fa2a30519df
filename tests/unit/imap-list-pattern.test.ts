// LIST patterns (RFC 3501 6.3.8): "The character "*" is a wildcard, and
// matches zero or more characters at this position. The character "%" is
// similar to "*", but it does not match a hierarchy delimiter." Checked
// against the obvious regular expression on random patterns and names.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { listPatternMatcher } from "../../native-host/imap/list-pattern";

function reference(pattern: string): RegExp {
  const source = [...pattern].map((char) => (char === "*" ? ".*" : char === "%" ? "[^/]*" : char.replace(/[\\^$.|?+()[\]{}]/g, "\\$&"))).join("");
  return new RegExp(`^${source}$`, "s");
}

describe("LIST pattern matcher", () => {
  it("matches as the wildcard definitions say", () => {
    const match = (pattern: string, name: string) => listPatternMatcher(pattern, "/")(name);
    expect(match("%", "Work")).toBe(true);
    expect(match("%", "Work/2026")).toBe(false);
    expect(match("*", "Work/2026")).toBe(true);
    expect(match("Work/%", "Work/2026")).toBe(true);
    expect(match("W%k", "Work")).toBe(true);
    expect(match("W%k", "Wo/rk")).toBe(false);
    expect(match("", "")).toBe(true);
    expect(match("", "a")).toBe(false);
    expect(match("a", "")).toBe(false);
    // INBOX is case-insensitive as a first level (RFC 3501 5.1), other names are not.
    expect(match("inbox/%", "INBOX/Sub")).toBe(true);
    expect(match("work", "Work")).toBe(false);
  });

  it("agrees with a regular expression on random patterns and names", () => {
    const alphabet = fc.constantFrom("a", "b", "/", "*", "%", ".");
    const nameAlphabet = fc.constantFrom("a", "b", "/", ".");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 10 }), fc.array(nameAlphabet, { maxLength: 10 }), (patternChars, nameChars) => {
        const pattern = patternChars.join("");
        const name = nameChars.join("");
        expect(listPatternMatcher(pattern, "/")(name)).toBe(reference(pattern).test(name));
      }),
      { numRuns: 3000 },
    );
  });
});
