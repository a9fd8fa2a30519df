// The recipient lookup Postfix asks at RCPT time (socketmap protocol, a
// netstring request "map key" and a netstring reply), so unknown users are
// refused in the SMTP dialogue instead of bounced later. Two maps:
//   mailbox  (virtual_mailbox_maps): "OK <address>" when the account exists.
//   access   (check_recipient_access): the refusals of the MX's RCPT
//            decision ("OK 450 4.7.13 ..." for no published key, "OK 452 ..."
//            when the mailbox is full); NOTFOUND lets the mail through.
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import type { LocalDelivery } from "../mx/local-delivery";
import { LOOKUP_IDLE_MS, MAX_LOOKUP_REQUEST_BYTES } from "./limits";

export function createRecipientLookup(delivery: LocalDelivery, log: Logger): Server {
  return createServer((socket) => serve(socket, (request) => answer(delivery, request), log));
}

function answer(delivery: LocalDelivery, request: string): string {
  const space = request.indexOf(" ");
  const map = request.slice(0, space);
  const key = request.slice(space + 1).toLowerCase();
  if (space < 0 || !/^[^\s@]+@[^\s@]+$/.test(key) || !delivery.isLocal(key)) {
    // Postfix also asks for partial keys (the domain, "@domain", "user@").
    return map === "mailbox" || map === "access" ? "NOTFOUND " : `PERM unknown map ${map.slice(0, 40)}`;
  }
  const checked = delivery.check(key, 0);
  if (map === "mailbox") return checked instanceof Error && checked.responseCode === 550 ? "NOTFOUND " : `OK ${key}`;
  if (map === "access") return checked instanceof Error ? `OK ${checked.responseCode} ${checked.message}` : "NOTFOUND ";
  return `PERM unknown map ${map.slice(0, 40)}`;
}

/** Reads netstrings ("<length>:<bytes>,") and answers each in order. */
function serve(socket: Socket, respond: (request: string) => string, log: Logger): void {
  let buffered = Buffer.alloc(0);
  socket.setTimeout(LOOKUP_IDLE_MS, () => socket.destroy());
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const colon = buffered.indexOf(":");
      const length = colon < 0 ? NaN : Number(buffered.subarray(0, colon).toString("latin1"));
      const tooLong = (colon < 0 && buffered.length > 10) || length > MAX_LOOKUP_REQUEST_BYTES;
      if (tooLong || (colon >= 0 && !/^\d+$/.test(buffered.subarray(0, colon).toString("latin1")))) {
        log.warn({ event: "lookup-bad-request" }, "recipient lookup: not a socketmap request; connection closed");
        socket.destroy();
        return;
      }
      if (colon < 0 || buffered.length < colon + 1 + length + 1) return;
      if (buffered[colon + 1 + length] !== 0x2c) {
        log.warn({ event: "lookup-bad-request" }, "recipient lookup: netstring without its comma; connection closed");
        socket.destroy();
        return;
      }
      const request = buffered.subarray(colon + 1, colon + 1 + length).toString("utf8");
      buffered = buffered.subarray(colon + 2 + length);
      const reply = Buffer.from(respond(request), "utf8");
      socket.write(Buffer.concat([Buffer.from(`${reply.length}:`), reply, Buffer.from(",")]));
    }
  });
}
