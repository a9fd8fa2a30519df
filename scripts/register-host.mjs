// Registers the native-messaging host `bitmask_mail` for the current user:
// $HOME/.mozilla/native-messaging-hosts/bitmask_mail.json (the folder
// Thunderbird reads on Linux, shared with Firefox) and, beside it, a small
// launcher script that runs dist/native-host.js with this Node. Only our
// add-on (its id from manifest.json) may start the host.
// Run by `npm run register-host`, which builds the host first.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const HOST_NAME = "bitmask_mail";
const root = path.resolve(import.meta.dirname, "..");
const hostScript = path.join(root, "dist", "native-host.js");
if (!existsSync(hostScript)) throw new Error(`${hostScript} is missing: run \`node scripts/build.mjs native-host bitmaskd\` first`);

const addonId = JSON.parse(readFileSync(path.join(root, "manifest.json"), "utf8")).browser_specific_settings.gecko.id;
const folder = path.join(os.homedir(), ".mozilla", "native-messaging-hosts");
const launcher = path.join(folder, `${HOST_NAME}.sh`);
const manifest = path.join(folder, `${HOST_NAME}.json`);

/** Single-quoted for sh, so any path works. */
const shQuote = (text) => `'${text.replaceAll("'", `'\\''`)}'`;

mkdirSync(folder, { recursive: true });
// Absolute paths throughout: Thunderbird runs the host with its own
// environment, where PATH may not lead to this Node.
writeFileSync(
  launcher,
  `#!/bin/sh\n# Bitmask Mail native-messaging host, written by scripts/register-host.mjs.\nexec ${shQuote(process.execPath)} ${shQuote(hostScript)} "$@"\n`,
);
chmodSync(launcher, 0o755);
writeFileSync(
  manifest,
  `${JSON.stringify(
    {
      name: HOST_NAME,
      description: "Bitmask Mail: bridge to the local bitmaskd",
      path: launcher,
      type: "stdio",
      allowed_extensions: [addonId],
    },
    null,
    2,
  )}\n`,
);
console.log(`registered ${HOST_NAME} for ${addonId}: ${manifest}`);
