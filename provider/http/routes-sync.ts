// Sync: pull changes since a generation (streamed out), push with expected
// revisions (streamed in).
import { changesQuery, type PushResponse } from "../../shared/provider-api";
import { MAX_DOCS_PER_REQUEST } from "../../shared/provider-api";
import { bodyChunks, parseOr400, sendJson, writeChunk } from "./http-io";
import { PushBodyReader } from "./push-body";
import type { HttpContext, Route } from "./router";

export function syncRoutes(context: HttpContext): Route[] {
  const { sync, limits } = context;
  return [
    {
      method: "GET",
      path: /^\/sync\/changes$/,
      auth: true,
      async handle({ res, url, user }) {
        const query = parseOr400(changesQuery, Object.fromEntries(url.searchParams));
        const list = sync.changes(user.id, query.since, query.limit, limits.changesByteBudget);
        // Streamed one document at a time: base64url of each is made just
        // before it is written, so a large batch is never in memory whole.
        res.writeHead(200, { "content-type": "application/json" });
        const remaining = list.more ? `"remaining":${list.remaining},` : "";
        await writeChunk(res, `{"generation":${list.generation},"more":${list.more},${remaining}"docs":[`);
        let first = true;
        for (const entry of list.entries) {
          const data = sync.data(user.id, entry);
          if (!data) continue;
          const doc = JSON.stringify({ id: entry.id, rev: entry.rev, gen: entry.gen, data: data.toString("base64url") });
          await writeChunk(res, first ? doc : `,${doc}`);
          first = false;
        }
        res.end("]}");
      },
    },
    {
      method: "POST",
      path: /^\/sync\/push$/,
      auth: true,
      async handle({ req, res, user }) {
        const reader = new PushBodyReader(MAX_DOCS_PER_REQUEST);
        for await (const chunk of bodyChunks(req, limits.maxPushBytes)) reader.feed(chunk);
        const pushed = sync.push(user.id, reader.end());
        const conflicts = pushed.results.filter((result) => result.status === "conflict").length;
        context.log.info({ event: "sync-push", user: user.username, docs: pushed.results.length, conflicts }, "push");
        sendJson(res, 200, pushed satisfies PushResponse);
      },
    },
  ];
}
