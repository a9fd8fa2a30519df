// Native messaging between the add-on and the bridge (native-host/native/).
// The add-on speaks the control API (shared/control-api.ts) through the
// bridge, limited to the methods it needs; the bridge relays the daemon's
// replies and events and adds its own events about the daemon connection.
import { z } from "zod";
import { controlError, controlEvent, type ControlMethod } from "./control-api";

/** The native host's registered name (the manifest file is `<name>.json`). */
export const NATIVE_HOST_NAME = "bitmask_mail";

/** The add-on's id: in manifest.json and in the host manifest's
 * allowed_extensions (the only add-on that may start the host). */
export const ADDON_ID = "bitmask-mail@bitmask.net";

/** What the add-on may ask. Token rotation, passphrase changes and key
 * import stay with bitmaskctl: the add-on has no use for them. */
export const ADDON_METHODS = [
  "status",
  "mail.get_token",
  "mail.status",
  "mail.errors",
  "keys.list",
  "sync",
  "account.create",
  "account.login",
  "web.open_link",
] as const satisfies readonly ControlMethod[];
export type AddonMethod = (typeof ADDON_METHODS)[number];

export const nativeRequest = z.object({
  id: z.number().int().nonnegative(),
  method: z.enum(ADDON_METHODS),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type NativeRequest = z.infer<typeof nativeRequest>;

/** The bridge's own event: whether it reaches the daemon. */
export const bridgeEvent = z.object({
  event: z.literal("daemon"),
  state: z.enum(["connected", "disconnected"]),
  message: z.string().optional(),
});

export const nativeReply = z.union([
  z.object({ id: z.number().int().nullable(), result: z.unknown() }),
  z.object({ id: z.number().int().nullable(), error: controlError }),
]);
export type NativeReply = z.infer<typeof nativeReply>;

export const nativeIncoming = z.union([controlEvent, bridgeEvent, nativeReply]);
export type NativeIncoming = z.infer<typeof nativeIncoming>;
