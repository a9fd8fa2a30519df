import { ANY_STATE, defineCommand, ok } from "../command";

// NOOP and CHECK do nothing themselves: the session flushes pending
// EXISTS / EXPUNGE / FETCH notices after every command, which is their point.
export const noop = defineCommand({
  name: "NOOP",
  states: ANY_STATE,
  parse: (args) => args.end(),
  run: () => ok("NOOP completed"),
});

export const check = defineCommand({
  name: "CHECK",
  states: ["selected"],
  parse: (args) => args.end(),
  run: () => ok("CHECK completed"),
});

export const logout = defineCommand({
  name: "LOGOUT",
  states: ANY_STATE,
  parse: (args) => args.end(),
  run(session) {
    session.untagged("BYE logging out");
    session.logout();
    return ok("LOGOUT completed");
  },
});
