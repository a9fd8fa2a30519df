// Messages from the add-on's pages (popup, setup) to its background script,
// which holds the one native-host connection.
import type { DaemonStatus, ProviderCertificate } from "../shared/control-api";

/** Where an account is: the provider's URL and, for a certificate the user
 * pinned on the setup page, that certificate (PEM). */
type ProviderChoice = { provider?: string; providerCa?: string };

export type PageRequest =
  | { type: "status" }
  /** Try to reach bitmaskd now instead of at the next back-off step. */
  | { type: "retry" }
  /** Open (or bring forward) the setup page. */
  | { type: "open-setup" }
  | ({ type: "create"; address: string; passphrase: string } & ProviderChoice)
  /** Unlock an account on this device, or (with a provider) fetch it to this device. */
  | ({ type: "login"; address: string; passphrase: string } & ProviderChoice)
  | { type: "sync"; address: string }
  /** The provider's TLS certificate, for the user to compare and pin. */
  | { type: "certificate"; provider: string }
  /** A one-time log-in link to the daemon's web reader, opened in the system's browser. */
  | { type: "open-web-mail"; address: string };

/** What the pages show: whether the daemon answers (and if not, why and
 * when the next try is), and its status. */
export type StatusView = { connected: boolean; problem: string | null; retryAt: number | null; status: DaemonStatus | null };

export type PageReply = { ok: true; view: StatusView; certificate?: ProviderCertificate } | { ok: false; error: string };

/** Sent by the background to open pages when the status changed. */
export const STATUS_CHANGED = "bitmask-status-changed";
