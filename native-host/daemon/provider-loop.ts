// One account's work with its provider, one round at a time: sync (pull,
// merge, push), make the account's key after the first sync if no device
// has one yet, then fetch incoming mail, keep it locally, delete the
// provider's copy and process it into INBOX, and push what that stored.
// Rounds run periodically, soon after a local change, and on demand; while
// the provider is down they back off; while the user is offline they wait.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { SyncStatus } from "../../shared/control-api";
import { IncomingProcessor } from "../incoming/incoming-processor";
import type { AccountKeyManager } from "../keys/keymanager";
import { INCOMING_PAGE_SIZE, SYNC_BACKOFF_MAX_MS, SYNC_BACKOFF_START_MS, SYNC_INTERVAL_MS, SYNC_LOCAL_CHANGE_DELAY_MS } from "../limits";
import { SECRETS_FILE } from "../store/account-store";
import { readSettings } from "../store/settings";
import type { ProviderSession } from "../sync/provider-client";
import { SyncEngine, type SyncProgress } from "../sync/sync-engine";
import { ProviderUnavailableError } from "../sync/transport";
import type { AccountContext, SyncControl } from "./services";

export type ProviderLoopOptions = {
  /** Time between rounds while nothing happens; default SYNC_INTERVAL_MS. */
  intervalMs?: number;
  /** From a local change to the round that pushes it; default SYNC_LOCAL_CHANGE_DELAY_MS. */
  localChangeDelayMs?: number;
};

type Progress = (done: number, total: number | null) => void;

export class ProviderLoop implements SyncControl {
  private readonly engine: SyncEngine;
  private readonly incoming: IncomingProcessor;
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

  constructor(
    private readonly context: AccountContext,
    private readonly session: ProviderSession,
    private readonly keys: AccountKeyManager,
    private readonly options: ProviderLoopOptions = {},
  ) {
    this.engine = new SyncEngine(context.store, context.cipher, session, { onProgress: (progress) => this.report(progress) });
    this.incoming = new IncomingProcessor(context.store, context.mail, keys);
    // A local change (a flag set over IMAP, a message moved) goes out soon.
    const delay = options.localChangeDelayMs ?? SYNC_LOCAL_CHANGE_DELAY_MS;
    context.store.onApply(() => context.store.afterCommit(() => this.schedule(delay)));
  }

  start(): void {
    this.schedule(0);
  }

  status(): SyncStatus {
    return { state: this.state, progress: this.progress, lastSyncedAt: this.lastSyncedAt };
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
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped || Date.now() + delayMs >= this.timerDueAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDueAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDueAt = Infinity;
      if (this.running) this.running.then(() => this.schedule(0), () => this.schedule(0));
      else void this.runRound();
    }, delayMs);
    this.timer.unref();
  }

  private runRound(): Promise<void> {
    this.running = this.round().finally(() => {
      this.running = null;
      const backoff = Math.min(SYNC_BACKOFF_START_MS * 2 ** (this.failures - 1), SYNC_BACKOFF_MAX_MS);
      this.schedule(this.failures > 0 ? backoff : (this.options.intervalMs ?? SYNC_INTERVAL_MS));
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
      return;
    }
    this.failures++;
    for (const error of failed) {
      // A provider that is down is said once, not at every retry.
      if (!(error instanceof ProviderUnavailableError) || this.failures === 1) this.context.reportError("sync", error.message);
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
      for (const doc of page.docs) await this.session.deleteIncoming(doc.id);
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
