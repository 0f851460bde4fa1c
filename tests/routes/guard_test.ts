// Cross-site requests (issue 19 point 1): Host allow-list, same-origin check with --cors-allow-origins, JSON
// only as application/json; save folders confined; X/Y values through the control's validation.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { Hono } from "hono";
import { hostName, requestGuard } from "../../routes/guard.ts";
import { post, startServer } from "./server.ts";

function app(allowedHosts: string[] = [], corsAllowOrigins: string[] = []) {
  const a = new Hono();
  a.use("*", requestGuard({ allowedHosts, corsAllowOrigins }));
  a.all("*", (c) => c.json({ ok: true }));
  return a;
}

const req = (headers: Record<string, string>, method = "POST", body: string | null = "{}") =>
  new Request("http://localhost:7860/sdapi/v1/options", { method, headers, body });

Deno.test("host names: ports and IPv6 brackets", () => {
  assertEquals([hostName("a.example:7860"), hostName("[::1]:7860"), hostName("LOCALHOST")], [
    "a.example",
    "[::1]",
    "localhost",
  ]);
});

Deno.test("a Host that is not served is refused; --allowed-hosts adds names", async () => {
  const json = { "content-type": "application/json" };
  assertEquals((await app().fetch(req({ ...json, host: "localhost:7860" }))).status, 200);
  assertEquals((await app().fetch(req({ ...json, host: "evil.example:7860" }))).status, 403);
  assertEquals((await app(["evil.example"]).fetch(req({ ...json, host: "evil.example" }))).status, 200);
  assertEquals((await app(["*"]).fetch(req({ ...json, host: "proxy.lan" }))).status, 200, "* turns it off");
});

Deno.test("cross-origin state changes are refused unless --cors-allow-origins names the origin", async () => {
  const h = { "content-type": "application/json", host: "localhost:7860" };
  assertEquals(
    (await app().fetch(req({ ...h, origin: "http://localhost:7860" }))).status,
    200,
    "same origin",
  );
  const r = await app().fetch(req({ ...h, origin: "https://evil.example" }));
  assertEquals(r.status, 403);
  ok(/--cors-allow-origins/.test((await r.json()).detail));
  assertEquals((await app().fetch(req({ ...h, referer: "https://evil.example/x" }))).status, 403, "Referer");
  assertEquals(
    (await app().fetch(req({ host: h.host, origin: "https://evil.example" }, "GET", null))).status,
    200,
  );
  const allowed = await app([], ["https://app.example"]).fetch(req({ ...h, origin: "https://app.example" }));
  assertEquals([allowed.status, allowed.headers.get("access-control-allow-origin")], [
    200,
    "https://app.example",
  ]);
  const pre = await app([], ["https://app.example"]).fetch(
    req({ host: h.host, origin: "https://app.example" }, "OPTIONS", null),
  );
  assertEquals(pre.status, 204);
});

Deno.test("bodies must be declared JSON: a text/plain post is refused", async () => {
  const r = await app().fetch(req({ host: "localhost", "content-type": "text/plain" }));
  assertEquals(r.status, 415);
  assertEquals((await app().fetch(req({ host: "localhost" }, "POST", null))).status, 200, "no body");
});

Deno.test("multipart uploads are taken only from this server's own page", async () => {
  const form = "multipart/form-data; boundary=x";
  const own = { host: "localhost:7860", "content-type": form, origin: "http://localhost:7860" };
  assertEquals((await app().fetch(req(own))).status, 200);
  const referred = { host: "localhost:7860", "content-type": form, referer: "http://localhost:7860/" };
  assertEquals((await app().fetch(req(referred))).status, 200);
  assertEquals(
    (await app().fetch(req({ host: "localhost", "content-type": form }))).status,
    415,
    "no origin",
  );
  const foreign = { host: "localhost:7860", "content-type": form, origin: "https://evil.example" };
  assertEquals((await app().fetch(req(foreign))).status, 403);
  assertEquals((await app().fetch(req({ ...own, origin: "null" }))).status, 403);
});

Deno.test("on the server: save folders stay in the outputs folder; X/Y values obey the control", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const s = await startServer();
  try {
    const out = await post(`${s.url}/sdapi/v1/options`, { outdir_samples: "/tmp/elsewhere" });
    assertEquals([out.status, (await out.json()).detail[0].loc], [422, ["body", "outdir_samples"]]);
    assertEquals((await post(`${s.url}/sdapi/v1/options`, { outdir_samples: "mine" })).status, 200);
    const over = await post(`${s.url}/sdapi/v1/txt2img`, {
      steps: 1,
      width: 32,
      height: 32,
      alwayson_scripts: { "Aesthetic embeddings": { args: [0.9, 1, 0.001, false, "tiny-demo"] } },
      xy_grid: { axis: "Aesthetic steps", values: "1,100000" },
    });
    assertEquals([over.status, (await over.json()).detail[0].loc], [422, ["body", "xy_grid", "values", 1]]);
    const plain = await fetch(`${s.url}/sdapi/v1/options`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ send_seed: false }),
    });
    assertEquals(plain.status, 415);
    await plain.body?.cancel();
  } finally {
    await s.close();
  }
});
