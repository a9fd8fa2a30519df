// One control request, from its method name and unchecked params to a reply:
// params checked against the method's schema, the handler called, whatever
// it throws turned into a coded error. The control socket answers through
// it, and so does the web reader's API (in process, same checks).
import {
  controlMethods,
  isControlMethod,
  type ControlError,
  type ControlMethod,
} from "../../shared/control-api";
import { ControlFailure, type ControlHandlers } from "./errors";

export type Dispatched = { result: unknown } | { error: ControlError };

/** Calls the handler of `method` (not `subscribe`, which belongs to a connection). */
export async function dispatch(
  handlers: ControlHandlers,
  method: string,
  rawParams: unknown,
  onError?: (method: string, error: unknown) => void,
): Promise<Dispatched> {
  if (!isControlMethod(method) || method === "subscribe") return { error: { code: "unknown-method", message: `no method ${method}` } };
  const params = controlMethods[method as ControlMethod].params.safeParse(rawParams ?? {});
  if (!params.success) {
    const problems = params.error.issues.map((issue) => `${issue.path.join(".") || "params"}: ${issue.message}`);
    return { error: { code: "bad-request", message: problems.join("; ") } };
  }
  try {
    const handler = handlers[method as Exclude<ControlMethod, "subscribe">] as (params: unknown) => unknown;
    return { result: await handler(params.data) };
  } catch (error) {
    onError?.(method, error);
    if (error instanceof ControlFailure) return { error: { code: error.code, message: error.message } };
    return { error: { code: "failed", message: (error as Error).message ?? String(error) } };
  }
}
