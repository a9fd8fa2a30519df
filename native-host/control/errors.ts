// What control handlers throw and what they are: shared by the control
// socket and the web reader's API, which both dispatch to the same handlers.
import type { z } from "zod";
import type { controlMethods, ControlMethod, ControlResult, ErrorCode } from "../../shared/control-api";

/** A failure a handler reports with a code the client can act on. */
export class ControlFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ControlFailure";
  }
}

type ParsedParams<M extends ControlMethod> = z.infer<(typeof controlMethods)[M]["params"]>;

/** The daemon's side of every method but `subscribe`, which the server keeps itself. */
export type ControlHandlers = {
  [M in Exclude<ControlMethod, "subscribe">]: (params: ParsedParams<M>) => Promise<ControlResult<M>> | ControlResult<M>;
};

