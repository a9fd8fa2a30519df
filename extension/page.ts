// What the add-on's pages (popup, setup) share: building elements (text
// only, never HTML: nothing from the daemon or a provider is markup), asking
// the background, and hearing that the status changed.
import browser from "webextension-polyfill";
import type { AccountStatus } from "../shared/control-api";
import { STATUS_CHANGED, type PageReply, type PageRequest } from "./messages";

export function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

export function button(label: string, onClick: () => void, className?: string): HTMLButtonElement {
  const node = element("button", label, className);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

export async function ask(request: PageRequest): Promise<PageReply> {
  return (await browser.runtime.sendMessage(request)) as PageReply;
}

export function onStatusChanged(listener: () => void): void {
  browser.runtime.onMessage.addListener((message: unknown) => {
    if ((message as { type?: string })?.type === STATUS_CHANGED) listener();
    return undefined;
  });
}

/** The sync state in words, with progress while a sync runs. */
export function syncText(account: AccountStatus): string {
  const { state, progress, lastSyncedAt } = account.sync;
  if (progress) return `${state} ${progress.done}/${progress.total ?? "?"}`;
  return lastSyncedAt ? `${state}, last ${new Date(lastSyncedAt).toLocaleString()}` : state;
}

/** "in 7 s" until the next try at `at`. */
export function secondsUntil(at: number): string {
  return `in ${Math.max(0, Math.ceil((at - Date.now()) / 1000))} s`;
}
