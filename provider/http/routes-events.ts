// The events route: a device's long-lived stream of "mail waiting" and
// "sync log moved" (shared/provider-api.ts, Events).
import type { HttpContext, Route } from "./router";

export function eventRoutes(context: HttpContext): Route[] {
  const { events, sync, incoming, accounts, clock, limits } = context;
  return [
    {
      method: "GET",
      path: /^\/events$/,
      auth: true,
      async handle({ res, user, token }) {
        const ready = { type: "ready", generation: sync.generation(user.id), incoming: incoming.waiting(user.id), keepAliveMs: limits.eventKeepAliveMs } as const;
        events.open(user.id, res, ready, () => accounts.userForToken(token, clock.now())?.id === user.id);
      },
    },
  ];
}
