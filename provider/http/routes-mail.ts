// The incoming queue, the key directory, the health check and the provider's description.
import {
  address as addressSchema,
  type HealthResponse,
  type IncomingResponse,
  incomingDeleteRequest,
  incomingQuery,
  type ProviderInfo,
} from "../../shared/provider-api";
import { readPublishableKey, UnusableKeyError } from "../keys/public-key";
import { HttpError, parseOr400, readBody, readJson, sendEmpty, sendJson, sendText } from "./http-io";
import type { HttpContext, Route } from "./router";

export function mailRoutes(context: HttpContext): Route[] {
  const { incoming, keyDirectory, limits, clock, domain } = context;

  const addressIn = (encoded: string | undefined): string => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(encoded ?? "");
    } catch {
      throw new HttpError(400, "malformed address");
    }
    return parseOr400(addressSchema, decoded.toLowerCase());
  };

  return [
    {
      method: "GET",
      path: /^\/incoming$/,
      auth: true,
      async handle({ res, url, user }) {
        const query = parseOr400(incomingQuery, Object.fromEntries(url.searchParams));
        const { entries, more } = incoming.list(user.id, query.limit);
        const docs = entries.map((entry) => ({ id: entry.id, data: entry.data.toString("utf8"), receivedAt: entry.receivedAt }));
        sendJson(res, 200, { docs, more } satisfies IncomingResponse);
      },
    },
    {
      method: "DELETE",
      path: /^\/incoming\/([A-Za-z0-9_-]{1,64})$/,
      auth: true,
      async handle({ res, match, user }) {
        incoming.delete(user.id, [match[1] as string]);
        sendEmpty(res);
      },
    },
    {
      method: "POST",
      path: /^\/incoming\/delete$/,
      auth: true,
      async handle({ req, res, user }) {
        const { ids } = await readJson(req, incomingDeleteRequest, limits.maxJsonBytes);
        incoming.delete(user.id, ids);
        sendEmpty(res);
      },
    },
    {
      method: "GET",
      path: /^\/keys\/([^/]+)$/,
      async handle({ res, match }) {
        const armored = keyDirectory.get(addressIn(match[1]));
        if (armored === undefined) throw new HttpError(404, "no key published for this address");
        sendText(res, 200, armored);
      },
    },
    {
      method: "PUT",
      path: /^\/keys\/([^/]+)$/,
      auth: true,
      async handle({ req, res, match, user }) {
        const address = addressIn(match[1]);
        if (address !== `${user.username}@${domain}`) throw new HttpError(403, "you may publish only your own address's key");
        const armored = (await readBody(req, limits.maxJsonBytes)).toString("utf8");
        try {
          await readPublishableKey(armored, address);
        } catch (error) {
          if (error instanceof UnusableKeyError) throw new HttpError(400, error.message);
          throw error;
        }
        keyDirectory.put(address, user.id, armored, clock.now());
        context.log.info({ event: "key-published", user: user.username }, "key published");
        sendEmpty(res);
      },
    },
    {
      method: "GET",
      path: /^\/health$/,
      async handle({ res }) {
        sendJson(res, 200, { status: "ok", version: context.version } satisfies HealthResponse);
      },
    },
    {
      method: "GET",
      path: /^\/provider$/,
      async handle({ res }) {
        const submission = { port: context.submissionPort(), starttls: context.tls };
        sendJson(res, 200, { domain, version: context.version, submission } satisfies ProviderInfo);
      },
    },
  ];
}
