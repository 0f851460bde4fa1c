// Requests a web page in the user's browser could forge, refused before any route runs: a Host that is not
// this server's (DNS rebinding), a state-changing request from another origin (cross-site request forgery)
// unless --cors-allow-origins names it, and a body that is not declared JSON (a text/plain form post needs no
// CORS preflight, application/json does) unless it is an upload from this server's own page.
import type { Context, MiddlewareHandler } from "hono";

export interface GuardOptions {
  /** Host names (no port) the server answers to, besides the loopback names; "*" turns the check off. */
  allowedHosts: string[];
  /** Origins ("https://app.example") allowed to make state-changing requests and read answers. */
  corsAllowOrigins: string[];
}

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]", "::1"];
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** "example.com:7860" → "example.com"; "[::1]:7860" → "[::1]". */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const i = h.lastIndexOf(":");
  return i >= 0 && h.indexOf(":") === i ? h.slice(0, i) : h;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function refuse(c: Context, status: 403 | 415, detail: string): Response {
  return c.json({ detail }, status);
}

export function requestGuard(opts: GuardOptions): MiddlewareHandler {
  const hosts = new Set([...LOOPBACK, ...opts.allowedHosts.map((h) => h.toLowerCase())]);
  const origins = new Set(opts.corsAllowOrigins.map((o) => o.replace(/\/+$/, "").toLowerCase()));
  return async (c, next) => {
    const host = c.req.header("host");
    if (host === undefined || (!hosts.has("*") && !hosts.has(hostName(host)))) {
      return refuse(
        c,
        403,
        `host ${JSON.stringify(host ?? "")} is not served (add it with --allowed-hosts)`,
      );
    }
    const origin = c.req.header("origin") ?? originOf(c.req.header("referer") ?? "");
    const own = new URL(c.req.url).origin.toLowerCase();
    const foreign = origin !== undefined && origin !== "null" && origin.toLowerCase() !== own;
    if (foreign && origins.has(origin.toLowerCase())) {
      c.header("access-control-allow-origin", origin);
      c.header("vary", "Origin");
      if (c.req.method === "OPTIONS") {
        c.header("access-control-allow-methods", "GET, POST, OPTIONS");
        c.header("access-control-allow-headers", c.req.header("access-control-request-headers") ?? "*");
        return c.body(null, 204);
      }
    } else if (!SAFE_METHODS.has(c.req.method) && (foreign || origin === "null")) {
      return refuse(
        c,
        403,
        `cross-origin request from ${origin} refused (allow it with --cors-allow-origins)`,
      );
    }
    if (!SAFE_METHODS.has(c.req.method)) {
      const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
      const length = c.req.header("content-length");
      const hasBody = c.req.raw.body !== null && length !== "0";
      // Uploads (the embedding tab's images) come as multipart forms, which another site's page could post
      // without a preflight; so only from this server's own pages, proven by their Origin or Referer.
      const ownUpload = type === "multipart/form-data" && origin !== undefined && !foreign &&
        origin !== "null";
      if (hasBody && type !== "application/json" && !ownUpload) {
        return refuse(
          c,
          415,
          `request bodies must be JSON sent as application/json, not ${type || "untyped"}`,
        );
      }
    }
    await next();
  };
}
