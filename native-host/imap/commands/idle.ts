// IDLE (RFC 2177): changes from any source (another session, sync, incoming
// mail) reach the client as they happen, until it sends DONE.
import { AUTHENTICATED, defineCommand, ok } from "../command";

export const idle = defineCommand({
  name: "IDLE",
  states: AUTHENTICATED,
  parse: (args) => args.end(),
  async run(session) {
    session.write("+ idling\r\n");
    session.idleTimeout();
    const selected = session.selected;
    let scheduled = false;
    const notify = () => {
      if (scheduled || !selected) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        selected.flush((line) => session.untagged(line), true);
      });
    };
    notify();
    selected?.mailbox.events.on("new", notify);
    selected?.mailbox.events.on("changed", notify);
    selected?.mailbox.events.on("expunged", notify);
    try {
      const line = await session.nextLine();
      if (line === null) return ok("IDLE ended by disconnection");
      if (line.toString("latin1").trim().toUpperCase() !== "DONE") return { status: "BAD", text: "expected DONE to end IDLE" };
      return ok("IDLE terminated");
    } finally {
      selected?.mailbox.events.off("new", notify);
      selected?.mailbox.events.off("changed", notify);
      selected?.mailbox.events.off("expunged", notify);
    }
  },
});
