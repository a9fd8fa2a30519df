// How two devices' versions of one document become one (DESIGN.md, sync):
// flags merge flag by flag, the later change on the hybrid clock winning;
// mailboxes keep the later edit; every other document is immutable, so two
// live versions are the same and only a deletion can differ. A deletion wins.
import type { Doc, FlagsContent, MailboxContent } from "../../shared/documents";

export function mergeDocuments(local: Doc, remote: Doc): Doc {
  if (local.content === null || remote.content === null) return local.content === null ? local : remote;
  switch (remote.type) {
    case "flags":
      return { ...remote, content: mergeFlags(local.content as FlagsContent, remote.content as FlagsContent) };
    case "mailbox":
      return laterMailbox(local.content as MailboxContent, remote.content as MailboxContent) === local.content ? local : remote;
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

function laterMailbox(local: MailboxContent, remote: MailboxContent): MailboxContent {
  return (remote.clock ?? "") > (local.clock ?? "") ? remote : local;
}
