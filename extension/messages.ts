// Messages from the add-on's pages (popup, setup) to its background script,
// which holds the one native-host connection.
import type { DaemonStatus } from "../shared/control-api";

export type PageRequest =
  | { type: "status" }
  | { type: "create"; address: string; passphrase: string; provider?: string }
  | { type: "login"; address: string; passphrase: string; provider?: string }
  | { type: "sync"; address: string }
  /** A one-time log-in link to the daemon's web reader, opened in the system's browser. */
  | { type: "open-web-mail"; address: string };

/** What the popup shows: whether the daemon answers, and its status. */
export type StatusView = { connected: boolean; problem: string | null; status: DaemonStatus | null };

export type PageReply = { ok: true; view: StatusView } | { ok: false; error: string };

/** Sent by the background to open pages when the status changed. */
export const STATUS_CHANGED = "bitmask-status-changed";
