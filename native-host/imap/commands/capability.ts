import { ANY_STATE, defineCommand, ok } from "../command";
import { capabilities } from "../capabilities";

export const capability = defineCommand({
  name: "CAPABILITY",
  states: ANY_STATE,
  parse: (args) => args.end(),
  run(session) {
    session.untagged(`CAPABILITY ${capabilities(session).join(" ")}`);
    return ok("CAPABILITY completed");
  },
});
