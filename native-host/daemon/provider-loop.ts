// One account's work with its provider, one round at a time: sync (pull,
// merge, push), make the account's key after the first sync if no device
// has one yet, then fetch incoming mail, keep it locally, delete the
// provider's copy and process it into INBOX, and push what that stored.
// Rounds run when the provider's event stream says mail waits or another
// device synced, soon after a local change, on demand, and every ten
// minutes as a safety net; while the provider is down they back off; while
// the user is offline they wait and the stream is closed.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { SyncStatus } from "../../shared/control-api";
import type { ProviderEvent } from "../../shared/provider-api";
import { IncomingProcessor } from "../incoming/incoming-processor";
import type { AccountKeyManager } from "../keys/keymanager";
import { INCOMING_PAGE_SIZE, SYNC_BACKOFF_MAX_MS, SYNC_BACKOFF_START_MS, SYNC_INTERVAL_MS, SYNC_LOCAL_CHANGE_DELAY_MS } from "../limits";
import { SECRETS_FILE } from "../store/account-store";
import { readSettings } from "../store/settings";
import type { ProviderSession } from "../sync/provider-client";
import { PushChannel } from "../sync/push-channel";
import { SyncEngine, type SyncProgress } from "../sync/sync-engine";
import { ProviderUnavailableError } from "../sync/transport";
import type { AccountContext, SyncControl } from "./services";

export type ProviderLoopOptions = {
  /** Time between rounds while nothing happens; default SYNC_INTERVAL_MS. */
  intervalMs?: number;
  /** From a local change to the round that pushes it; default SYNC_LOCAL_CHANGE_DELAY_MS. */
  localChangeDelayMs?: number;
  /** Listen to the provider's event stream (default true). Tests that
   * decide themselves when devices talk turn it off. */
  push?: boolean;
};

type Progress = (done: number, total: number | null) => void;

export class ProviderLoop implements SyncControl {
  private readonly engine: SyncEngine;
  private readonly incoming: IncomingProcessor;
  private readonly channel: PushChannel | null;
  private state: SyncStatus["state"] = "idle";
  private progress: SyncStatus["progress"] = null;
  private lastSyncedAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDueAt = Infinity;
  private running: Promise<void> | null = null;
  private stopped = false;
  private failures = 0;
  private secretsStored = false;
  private onProgress: Progress | null = null;
  // Why the next round is due; a timer that finds none of these skips it.
  /** A whole round: at start, periodically, after a failure, after the event stream (re)connects. */
  private fullRoundAt = 0;
  /** The provider said mail waits. */
  private incomingWaiting = false;
  /** The newest generation the provider announced (compared with where our pull is). */
  private providerGeneration = 0;
  /** The local generation after which documents were written since the
   * last round; null when none were. Only those still unpushed count. */
  private writtenAfter: number | null = null;

  constructor(
    private readonly context: AccountContext,
    private readonly session: ProviderSession,
    private readonly keys: AccountKeyManager,
    private readonly options: ProviderLoopOptions = {},
  ) {
    this.engine = new SyncEngine(context.store, context.cipher, session, { onProgress: (progress) => this.report(progress) });
    this.incoming = new IncomingProcessor(context.store, context.mail, keys);
    // A local change (a flag set over IMAP, a message moved) goes out soon;
    // the loop's own writes (pulled documents, incoming mail it stored and
    // pushed) leave nothing to push and start no round.
    const delay = options.localChangeDelayMs ?? SYNC_LOCAL_CHANGE_DELAY_MS;
    context.store.onApply(() => {
      this.writtenAfter ??= context.store.generation() - 1;
      context.store.afterCommit(() => this.schedule(delay));
    });
    this.channel =
      options.push === false
        ? null
        : new PushChannel(session, {
            onEvent: (event) => this.heard(event),
            onState: () => context.statusChanged(),
            onProblem: (message) => context.log.warn({ source: "push" }, message),
          });
  }

  start(): void {
    if (!this.context.isOffline()) this.channel?.start();
    this.schedule(0);
  }

  status(): SyncStatus {
    return { state: this.state, progress: this.progress, lastSyncedAt: this.lastSyncedAt, push: this.channel?.state ?? "off" };
  }

  /** Offline closes the event stream; back online, it opens again and a round catches up. */
  setOffline(offline: boolean): void {
    if (this.stopped) return;
    if (offline) {
      void this.channel?.stop();
      this.setState("offline");
      return;
    }
    this.channel?.start();
    this.fullRoundAt = 0;
    this.schedule(0);
  }

  /** One round now (after the one under way, if any). */
  async syncNow(onProgress: Progress): Promise<SyncStatus> {
    while (this.running) await this.running;
    this.onProgress = onProgress;
    try {
      await this.runRound();
    } finally {
      this.onProgress = null;
    }
    return this.status();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.channel?.stop();
    await this.running;
  }

  private heard(event: ProviderEvent): void {
    if (event.type === "ready") this.fullRoundAt = 0;
    else if (event.type === "incoming") this.incomingWaiting = true;
    else this.providerGeneration = Math.max(this.providerGeneration, event.generation);
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped || Date.now() + delayMs >= this.timerDueAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDueAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDueAt = Infinity;
      if (this.running) this.running.then(() => this.schedule(0), () => this.schedule(0));
      else if (this.roundDue()) void this.runRound();
      else this.schedule(this.fullRoundAt - Date.now());
    }, delayMs);
    this.timer.unref();
  }

  private roundDue(): boolean {
    if (Date.now() >= this.fullRoundAt || this.incomingWaiting) return true;
    if (this.providerGeneration > this.engine.pulledGeneration) return true;
    if (this.writtenAfter !== null && this.engine.hasChangesAfter(this.writtenAfter)) return true;
    this.writtenAfter = null;
    return false;
  }

  private runRound(): Promise<void> {
    this.incomingWaiting = false;
    this.writtenAfter = null;
    this.running = this.round().finally(() => {
      this.running = null;
      const backoff = Math.min(SYNC_BACKOFF_START_MS * 2 ** (this.failures - 1), SYNC_BACKOFF_MAX_MS);
      const delay = this.failures > 0 ? backoff : (this.options.intervalMs ?? SYNC_INTERVAL_MS);
      this.fullRoundAt = Date.now() + delay;
      this.schedule(delay);
    });
    return this.running;
  }

  private async round(): Promise<void> {
    if (this.context.isOffline()) {
      this.setState("offline");
      return;
    }
    this.setState("syncing");
    // Sync and incoming mail fail apart: a push the provider refuses must
    // not keep new mail out of INBOX, nor a broken incoming queue the sync.
    const failed: Error[] = [];
    const started = performance.now();
    try {
      const synced = await this.attempt(failed, async () => {
        await this.storeSecretsOnce();
        await this.sync();
        if (!this.keys.ownFingerprint()) {
          await this.keys.ensureOwnKey(readSettings(this.context.store).keyAlgorithm);
          await this.sync();
        }
      });
      // Without a key of its own (no sync yet told whether another device
      // made one) incoming mail cannot be opened: it waits on the provider.
      let fetched = 0;
      if (this.keys.ownFingerprint()) await this.attempt(failed, async () => void (fetched = await this.fetchIncoming()));
      if (synced && fetched > 0) await this.attempt(failed, () => this.sync());
    } finally {
      this.progress = null;
    }
    if (failed.length === 0) {
      this.failures = 0;
      this.lastSyncedAt = Date.now();
      this.setState("idle");
      this.context.log.info({ event: "round", ok: true, ms: Math.round(performance.now() - started) }, "round with the provider");
      return;
    }
    this.failures++;
    this.context.log.info({ event: "round", ok: false, ms: Math.round(performance.now() - started) }, "round with the provider failed");
    let unavailableSaid = false;
    for (const error of failed) {
      // A provider that is down is said once: not at every retry, nor by each part of the round.
      const unavailable = error instanceof ProviderUnavailableError;
      if (unavailable && (this.failures > 1 || unavailableSaid)) continue;
      unavailableSaid ||= unavailable;
      this.context.reportError("sync", error.message);
    }
    this.setState("error");
  }

  /** Runs one part of a round; false when it failed (the error kept in `failed`). */
  private async attempt(failed: Error[], work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (error) {
      failed.push(error as Error);
      return false;
    }
  }

  /** A second device needs the secrets blob; the sign-up (or a crash right
   * after it) may not have left one on the provider. */
  private async storeSecretsOnce(): Promise<void> {
    if (this.secretsStored) return;
    if ((await this.session.secrets()) === null) await this.session.storeSecrets(await readFile(path.join(this.context.dir, SECRETS_FILE), "utf8"));
    this.secretsStored = true;
  }

  private async sync(): Promise<void> {
    const report = await this.engine.sync();
    for (const refused of report.refused) {
      this.context.reportError("sync", `refused a document from the provider (${refused.problem}): ${refused.message}`);
    }
  }

  /** Incoming mail, page by page; resolves to how many messages were stored. */
  private async fetchIncoming(): Promise<number> {
    let stored = 0;
    for (;;) {
      const page = await this.session.incoming(INCOMING_PAGE_SIZE);
      // Kept locally (one transaction) before the provider's copies go: a
      // crash in between fetches them again, and the stash ignores them.
      this.incoming.stash(page.docs.map((doc) => ({ providerId: doc.id, armored: doc.data, receivedAt: doc.receivedAt })));
      await this.session.deleteIncoming(page.docs.map((doc) => doc.id));
      const report = await this.incoming.processAll();
      stored += report.stored + report.failed;
      for (const failure of this.incoming.errors().slice(0, report.failed)) this.context.reportError("incoming", failure.error);
      if (!page.more || page.docs.length === 0) return stored;
    }
  }

  private report(progress: SyncProgress): void {
    this.progress = { done: progress.done, total: progress.total };
    this.onProgress?.(progress.done, progress.total);
    this.context.statusChanged();
  }

  private setState(state: SyncStatus["state"]): void {
    if (this.state === state) return;
    this.state = state;
    this.context.statusChanged();
  }
}
