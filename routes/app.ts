// The Hono application: authentication, body limits, the page, the islands bundle, the API, the docs and the
// extensions' own tab routes.
import { Hono } from "hono";
import { basicAuth } from "hono/basic-auth";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { WebUIService } from "../lib/server/service.ts";
import { Unavailable } from "../lib/server/unavailable.ts";
import { docsRoutes } from "./docs.ts";
import { type GuardOptions, requestGuard } from "./guard.ts";
import { internalRoutes } from "./internal.ts";
import { type CmdFlags, sdapiRoutes } from "./sdapi.ts";
import { uiRoutes } from "./ui.tsx";
import { inputErrorResponse } from "./validation.ts";

export interface AppOptions {
  /** "user:pass" for HTTP basic authentication of everything. */
  auth?: string;
  /** The islands bundle (see lib/server/bundle.ts). */
  clientJs: string;
  /** Largest accepted request body; generation requests carry base64 images. */
  maxBodyBytes?: number;
  /** Host allow-list and cross-origin policy (routes/guard.ts); loopback names only when absent. */
  guard?: GuardOptions;
  /** GET /sdapi/v1/cmd-flags. */
  cmdFlags?: CmdFlags;
}

export const DEFAULT_MAX_BODY = 32 << 20;
const SCRIPT_URL = "/static/client.js";

export function parseAuth(auth: string): { username: string; password: string } {
  const i = auth.indexOf(":");
  if (i <= 0 || i === auth.length - 1) throw new Error(`--api-auth must be user:password`);
  return { username: auth.slice(0, i), password: auth.slice(i + 1) };
}

export function createApp(svc: WebUIService, opts: AppOptions): Hono {
  const app = new Hono();
  app.use("*", requestGuard(opts.guard ?? { allowedHosts: [], corsAllowOrigins: [] }));
  if (opts.auth) app.use("*", basicAuth({ ...parseAuth(opts.auth), realm: "aesthetic-gradients" }));
  const maxSize = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  app.use(
    "*",
    bodyLimit({
      maxSize,
      onError: (c) =>
        c.json({ error: "request body too large", detail: `the limit is ${maxSize} bytes` }, 413),
    }),
  );
  app.get(SCRIPT_URL, (c) => {
    c.header("content-type", "text/javascript; charset=utf-8");
    return c.body(opts.clientJs);
  });
  app.route("/sdapi/v1", sdapiRoutes(svc, opts.cmdFlags));
  app.route("/internal", internalRoutes(svc));
  app.route("/", docsRoutes());
  for (const ext of svc.extensions) {
    for (const tab of ext.tabs ?? []) {
      if (!tab.routes) continue;
      const base = `/extensions/${ext.id}`;
      const sub = new Hono();
      tab.routes(sub, { base });
      app.route(base, sub);
    }
  }
  app.route("/", uiRoutes(svc, SCRIPT_URL));
  // FastAPI's answer for an unknown route, which A1111 clients parse as JSON.
  app.notFound((c) => c.json({ detail: "Not Found" }, 404));
  // The one place errors become answers: input problems from any layer are 422 naming the field; the rest
  // the service being unable to do it now is 503 with the reason; the rest are faults of the server, logged, and 500.
  app.onError((e, c) => {
    if (e instanceof HTTPException) return e.getResponse();
    const input = inputErrorResponse(c, e);
    if (input) return input;
    if (e instanceof Unavailable) return c.json({ error: "unavailable", detail: e.message }, 503);
    console.error(e);
    return c.json({ error: "internal error", detail: e.message }, 500);
  });
  return app;
}
