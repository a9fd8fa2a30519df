// LIST and LSUB mailbox patterns (RFC 3501 6.3.8): "*" matches anything, "%"
// anything but the hierarchy delimiter. Matched by simulating the pattern's
// automaton over the name, one set of positions per character: time is
// bounded by name length x pattern length whatever the pattern, where a
// backtracking matcher (a RegExp of ".*" and "[^/]*") takes time exponential
// in the number of wildcards ("%%%...%z" of 60 "%" took 30 s).

type Piece = { kind: "literal"; char: string } | { kind: "any" } | { kind: "level" };

/** The pattern as pieces, each run of wildcards made one: a run with a "*"
 * matches what one "*" does, a run of "%" what one "%" does. */
function pieces(pattern: string): Piece[] {
  const out: Piece[] = [];
  for (const char of pattern) {
    const piece: Piece = char === "*" ? { kind: "any" } : char === "%" ? { kind: "level" } : { kind: "literal", char };
    const last = out[out.length - 1];
    if (piece.kind !== "literal" && last && last.kind !== "literal") {
      if (piece.kind === "any") out[out.length - 1] = piece;
      continue;
    }
    out.push(piece);
  }
  return out;
}

function matcher(pattern: string, delimiter: string): (name: string) => boolean {
  const list = pieces(pattern);
  const literals = list.filter((piece) => piece.kind === "literal").length;
  const wildcard = (i: number) => list[i] !== undefined && list[i]!.kind !== "literal";
  return (name) => {
    // Every literal piece takes one character: a longer pattern cannot match.
    if (literals > name.length) return false;
    // active[i]: the first i pieces match the name read so far.
    let active = new Uint8Array(list.length + 1);
    let next = new Uint8Array(list.length + 1);
    const close = (states: Uint8Array) => {
      // A wildcard may match nothing; runs are single pieces, so one pass forward suffices.
      for (let i = 0; i < list.length; i++) if (states[i] && wildcard(i)) states[i + 1] = 1;
    };
    active[0] = 1;
    close(active);
    for (const char of name) {
      next.fill(0);
      let any = false;
      for (let i = 0; i < list.length; i++) {
        if (!active[i]) continue;
        const piece = list[i]!;
        const target = piece.kind === "literal" ? (piece.char === char ? i + 1 : -1) : piece.kind === "any" || char !== delimiter ? i : -1;
        if (target < 0) continue;
        next[target] = 1;
        any = true;
      }
      if (!any) return false;
      close(next);
      [active, next] = [next, active];
    }
    return active[list.length] === 1;
  };
}

/** Whether a mailbox name matches a pattern. A pattern that starts with
 * INBOX in any case also matches names under INBOX, whose first level is
 * case-insensitive (RFC 3501 5.1). */
export function listPatternMatcher(pattern: string, delimiter: string): (name: string) => boolean {
  const exact = matcher(pattern, delimiter);
  if (!/^INBOX/i.test(pattern)) return exact;
  const inbox = matcher("INBOX" + pattern.slice("INBOX".length), delimiter);
  return (name) => exact(name) || inbox(name);
}
