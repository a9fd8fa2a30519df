// Every IMAP command the server knows, by name.
import type { CommandSpec } from "../command";
import { append } from "./append";
import { capability } from "./capability";
import { copy, move } from "./copy-move";
import { enable } from "./enable";
import { fetch } from "./fetch";
import { id } from "./id";
import { idle } from "./idle";
import { list, lsub } from "./list";
import { authenticate, login } from "./login";
import { create, deleteMailbox, rename, subscribe, unsubscribe } from "./manage-mailboxes";
import { namespace } from "./namespace";
import { check, logout, noop } from "./noop";
import { search } from "./search";
import { close, examine, expunge, select, unselect } from "./select";
import { sort } from "./sort";
import { status } from "./status";
import { store } from "./store";
import { thread } from "./thread";

const all: CommandSpec<never>[] = [
  append, authenticate, capability, check, close, copy, create, deleteMailbox, enable, examine, expunge, fetch,
  id, idle, list, login, logout, lsub, move, namespace, noop, rename, search, select, sort, status, store,
  subscribe, thread, unselect, unsubscribe,
] as CommandSpec<never>[];

export const commandsByName: ReadonlyMap<string, CommandSpec<unknown>> = new Map(
  all.map((spec) => [spec.name, spec as CommandSpec<unknown>]),
);
