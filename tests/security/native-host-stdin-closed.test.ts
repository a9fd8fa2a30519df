// The attack (or a Thunderbird that quits at the wrong moment): stdin of
// the native host closes while thousands of replies are still on their way
// from the daemon. The host then ended stdout and a late reply wrote after
// the end: ERR_STREAM_WRITE_AFTER_END crashed it (once in 8 tries). Now
// replies that arrive after stdin closed are dropped.
//
// The bridge runs in this process as native-host/native/main.ts runs it,
// stdout ending once the bridge returns, against a real daemon's control
// socket; 8 rounds of 5,000 requests, as the report had it.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough, Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlClient } from "../../native-host/control/client";
import { type Daemon, startDaemon } from "../../native-host/daemon/daemon";
import { runBridge } from "../../native-host/native/bridge";
import { encodeNativeMessage } from "../../native-host/native/framing";

let dataDir: string;
let daemon: Daemon;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "bridge-stdin-"));
  daemon = await startDaemon({ dataDir, imapPort: 0, log: pino({ level: "silent" }) });
});

afterAll(async () => {
  await daemon?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("stdin closing with replies pending", () => {
  it("never writes after the end of stdout", async () => {
    for (let round = 0; round < 8; round++) {
      const input = new PassThrough();
      // Like process.stdout, a stream that an end does not destroy: a write after it is an error.
      const output = new Writable({ autoDestroy: false, write: (_chunk, _encoding, callback) => callback() });
      const errors: Error[] = [];
      output.on("error", (error) => errors.push(error));
      const done = runBridge({ input, output, connectDaemon: () => ControlClient.connect(daemon.controlSocketPath!), log: () => undefined });
      for (let id = 1; id <= 5_000; id++) input.write(encodeNativeMessage({ id, method: "status", params: {} }));
      input.end();
      await done;
      output.end();
      // The daemon's answers to what was still pending arrive now.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(errors.map((error) => error.message)).toEqual([]);
    }
  }, 120_000);
});
