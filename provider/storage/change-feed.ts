// What the stores tell, after each commit, to whoever keeps devices
// informed (the events route): mail waiting for a user, a user's sync log
// moved. Nothing is kept here: a listener that is not listening misses it.
import { EventEmitter } from "node:events";

export type ChangeFeedEvents = {
  incoming: [userId: number];
  sync: [userId: number, generation: number];
};

export class ChangeFeed extends EventEmitter<ChangeFeedEvents> {}
