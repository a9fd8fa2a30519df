// Static routes for mail to other domains: `domain=host:port`, each the
// receiving provider's MX (there is no DNS MX lookup).
import type { Route } from "../options";

export function parseRoute(spec: string): [domain: string, route: Route] {
  const match = /^([^=\s]+)=([^:\s]+|\[[^\]]+\]):(\d{1,5})$/.exec(spec);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) throw new Error(`not a route (domain=host:port): ${spec}`);
  return [(match[1] as string).toLowerCase(), { host: (match[2] as string).replace(/^\[|\]$/g, ""), port }];
}
