// ENABLE (RFC 5161) for CONDSTORE and QRESYNC (RFC 7162); others are ignored.
import { AUTHENTICATED, defineCommand, ok } from "../command";

const SUPPORTED = new Set(["CONDSTORE", "QRESYNC"]);

export const enable = defineCommand({
  name: "ENABLE",
  states: AUTHENTICATED,
  parse(args) {
    const names: string[] = [];
    while (args.remaining > 0) names.push(args.atom("capability").toUpperCase());
    if (names.length === 0) args.atom("capability");
    return names;
  },
  run(session, names) {
    const newly = names.filter((name) => SUPPORTED.has(name) && !session.enabled.has(name));
    for (const name of newly) session.enabled.add(name);
    // QRESYNC implies CONDSTORE (RFC 7162 3.2.3).
    if (session.enabled.has("QRESYNC") || session.enabled.has("CONDSTORE")) session.condstoreActive = true;
    session.untagged(`ENABLED${newly.map((name) => ` ${name}`).join("")}`);
    return ok("ENABLE completed");
  },
});
