// The native-messaging bridge: Thunderbird runs it (one process per
// connectNative port) and talks to it over stdin/stdout; it relays the
// add-on's requests to bitmaskd's control socket and the daemon's replies
// and events back. Whatever the add-on sends, the bridge answers: a bad
// message gets an error reply, never a crash.
import type { Readable, Writable } from "node:stream";
import type { ControlReply, ErrorCode } from "../../shared/control-api";
import { nativeRequest, type NativeReply } from "../../shared/native-messaging";
import type { ControlClient } from "../control/client";
import { encodeNativeMessage, NativeMessageReader } from "./framing";
import { MAX_MESSAGE_FROM_THUNDERBIRD_BYTES, MAX_MESSAGE_TO_THUNDERBIRD_BYTES } from "./limits";

export type BridgeOptions = {
  input: Readable;
  output: Writable;
  /** Connects to the daemon, starting it when it is not running. */
  connectDaemon(): Promise<ControlClient>;
  /** Diagnostics (Thunderbird shows the host's stderr in its console). */
  log(message: string): void;
};

/** Runs until Thunderbird closes stdin (or the daemon goes away: the add-on
 * then reconnects, which starts a new bridge and, if needed, the daemon). */
export function runBridge(options: BridgeOptions): Promise<void> {
  const { input, output, log } = options;
  let finished = false;
  const send = (message: unknown) => {
    // Replies still on their way when stdin closed have nobody to read them,
    // and the output may be ended by then (writing would crash the host).
    if (finished || output.writableEnded) return;
    let frame = encodeNativeMessage(message);
    if (frame.length - 4 > MAX_MESSAGE_TO_THUNDERBIRD_BYTES) {
      const id = (message as { id?: number | null }).id ?? null;
      frame = encodeNativeMessage(errorReply(id, "too-large", `the answer is over ${MAX_MESSAGE_TO_THUNDERBIRD_BYTES} bytes`));
    }
    output.write(frame);
  };

  return new Promise<void>((resolve) => {
    let daemon: Promise<ControlClient> | null = null;
    const finish = () => {
      if (finished) return;
      finished = true;
      void daemon?.then((client) => client.close()).catch(() => undefined);
      resolve();
    };

    /** The daemon connection, made on first use and again after a failure. */
    const connected = (): Promise<ControlClient> => {
      daemon ??= (async () => {
        const client = await options.connectDaemon();
        client.onEvent((event) => send(event));
        client.onClose(() => {
          send({ event: "daemon", state: "disconnected", message: "bitmaskd went away" });
          finish();
        });
        await client.request("subscribe", {});
        send({ event: "daemon", state: "connected" });
        return client;
      })();
      daemon.catch(() => {
        daemon = null;
      });
      return daemon;
    };

    const relay = async (text: string): Promise<NativeReply> => {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return errorReply(null, "bad-request", "not JSON");
      }
      const request = nativeRequest.safeParse(json);
      if (!request.success) {
        const id = typeof json === "object" && json !== null && Number.isInteger((json as { id?: unknown }).id) ? (json as { id: number }).id : null;
        return errorReply(id, "bad-request", "not a request the add-on may make");
      }
      const { id, method, params } = request.data;
      let client: ControlClient;
      try {
        client = await connected();
      } catch (error) {
        return errorReply(id, "daemon-unavailable", (error as Error).message);
      }
      try {
        return withId(await client.send(method, params ?? {}), id);
      } catch (error) {
        return errorReply(id, "daemon-unavailable", (error as Error).message);
      }
    };

    // Connect at once: the add-on's first request then finds the daemon up.
    connected().catch((error: Error) => {
      log(`bitmask bridge: ${error.message}`);
      send({ event: "daemon", state: "disconnected", message: error.message });
    });

    const reader = new NativeMessageReader(MAX_MESSAGE_FROM_THUNDERBIRD_BYTES);
    input.on("data", (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        if (frame.kind === "too-large") {
          log(`bitmask bridge: skipped a ${frame.length}-byte message`);
          send(errorReply(null, "too-large", `message of ${frame.length} bytes is over ${MAX_MESSAGE_FROM_THUNDERBIRD_BYTES}`));
        } else void relay(frame.text).then(send);
      }
    });
    input.on("end", finish);
    input.on("close", finish);
    input.on("error", finish);
  });
}

function errorReply(id: number | null, code: ErrorCode, message: string): NativeReply {
  return { id, error: { code, message } };
}

/** The daemon's reply under the add-on's request id (the bridge numbers its own). */
function withId(reply: ControlReply, id: number): NativeReply {
  return "error" in reply ? { id, error: reply.error } : { id, result: reply.result };
}
