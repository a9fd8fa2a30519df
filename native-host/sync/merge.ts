// How two devices' versions of one document become one (docs/DESIGN.md, Data model):
// flags merge flag by flag, the later change on the hybrid clock winning;
// mailboxes and settings keep the later edit (a mailbox keeps the identity
// of its first creation); keymanager documents merge by
// the keymanager's rules; every other document is immutable, so two live
// versions are the same and only a deletion can differ. A deletion wins.
import type { ContentOf, Doc, FlagsContent, MailboxContent } from "../../shared/documents";
import { mergeActiveKeyContent, mergeAutocryptContent, mergeKeyContent } from "../keys/sync-merge";

export function mergeDocuments(local: Doc, remote: Doc): Doc {
  if (local.content === null || remote.content === null) return local.content === null ? local : remote;
  switch (remote.type) {
    case "flags":
      return { ...remote, content: mergeFlags(local.content as FlagsContent, remote.content as FlagsContent) };
    case "mailbox":
      return { ...remote, content: mergeMailbox(local.content as MailboxContent, remote.content as MailboxContent) };
    case "settings":
      return laterEdit(local.content as ContentOf<"settings">, remote.content as ContentOf<"settings">) === local.content ? local : remote;
    case "key":
      return { ...remote, content: mergeKeyContent(local.content as ContentOf<"key">, remote.content as ContentOf<"key">) };
    case "activeKey":
      return { ...remote, content: mergeActiveKeyContent(local.content as ContentOf<"activeKey">, remote.content as ContentOf<"activeKey">) };
    case "autocrypt":
      return { ...remote, content: mergeAutocryptContent(local.content as ContentOf<"autocrypt">, remote.content as ContentOf<"autocrypt">) };
    default:
      return remote;
  }
}

export function mergeFlags(local: FlagsContent, remote: FlagsContent): FlagsContent {
  const localClock = local.clock ?? {};
  const remoteClock = remote.clock ?? {};
  const localFlags = new Map(local.flags.map((flag) => [flag.toLowerCase(), flag]));
  const remoteFlags = new Map(remote.flags.map((flag) => [flag.toLowerCase(), flag]));
  const clock: Record<string, string> = {};
  const flags: string[] = [];
  for (const key of new Set([...localFlags.keys(), ...remoteFlags.keys(), ...Object.keys(localClock), ...Object.keys(remoteClock)])) {
    const localStamp = localClock[key] ?? "";
    const remoteStamp = remoteClock[key] ?? "";
    // Ties (no stamps on either side) keep a flag either side has: nothing is lost.
    const winner = remoteStamp > localStamp ? remoteFlags : localStamp > remoteStamp ? localFlags : null;
    const present = winner ? winner.get(key) : (localFlags.get(key) ?? remoteFlags.get(key));
    if (present) flags.push(present);
    const stamp = remoteStamp > localStamp ? remoteStamp : localStamp;
    if (stamp) clock[key] = stamp;
  }
  return { ...remote, flags: flags.sort(), clock };
}

/** The later edit's name and subscription, but the identity (UIDVALIDITY,
 * creation time) of the mailbox made first: a second device makes its own
 * default mailboxes (same ids) before its first sync, and its newer clock
 * must not give the account's INBOX a new UIDVALIDITY on every device. */
export function mergeMailbox(local: MailboxContent, remote: MailboxContent): MailboxContent {
  const later = (remote.clock ?? "") > (local.clock ?? "") ? remote : local;
  const first =
    remote.created < local.created || (remote.created === local.created && remote.uidValidity < local.uidValidity) ? remote : local;
  return { ...later, uidValidity: first.uidValidity, created: first.created };
}

function laterEdit<T extends { clock: string }>(local: T, remote: T): T {
  return remote.clock > local.clock ? remote : local;
}
