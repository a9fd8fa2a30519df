// ID (RFC 2971): clients tell who they are; we answer with our name only.
import { ParseError } from "../protocol/types";
import { ANY_STATE, defineCommand, ok } from "../command";

export const id = defineCommand({
  name: "ID",
  states: ANY_STATE,
  parse(args) {
    const token = args.next("ID parameter list");
    if (token.type !== "nil" && token.type !== "list") throw new ParseError("ID takes a parameter list or NIL");
    args.end();
  },
  run(session) {
    session.untagged('ID ("name" "Bitmask Mail" "vendor" "Bitmask")');
    return ok("ID completed");
  },
});
