import { AUTHENTICATED, defineCommand, ok } from "../command";
import { HIERARCHY_DELIMITER } from "../../mail/account";

export const namespace = defineCommand({
  name: "NAMESPACE",
  states: AUTHENTICATED,
  parse: (args) => args.end(),
  run(session) {
    session.untagged(`NAMESPACE (("" "${HIERARCHY_DELIMITER}")) NIL NIL`);
    return ok("NAMESPACE completed");
  },
});
