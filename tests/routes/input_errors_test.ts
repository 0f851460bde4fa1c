// Issue 19 point 10: what used to answer 500 "generation failed" is a 422 naming the field.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { pngHeader } from "../lib/io/crafted_png.ts";
import { encodeBase64 } from "../../routes/sdapi.ts";
import { post, startServer } from "./server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const small = { prompt: "x", steps: 1, width: 32, height: 32 };

Deno.test(
  "undecodable and oversized init images, odd X/Y values and an uncreatable save folder are 422",
  opts,
  async () => {
    const s = await startServer();
    try {
      const loc = async (path: string, body: unknown) => {
        const r = await post(`${s.url}/sdapi/v1/${path}`, body);
        const json = await r.json();
        return [r.status, json.detail?.[0]?.loc];
      };
      const garbage = encodeBase64(new TextEncoder().encode("this is not an image at all"));
      assertEquals(await loc("img2img", { ...small, init_images: [garbage] }), [422, [
        "body",
        "init_images",
        0,
      ]]);
      // A PNG that declares 30000 × 30000 pixels (a decompression bomb): refused before it is decoded.
      const huge = pngHeader(30000, 30000);
      assertEquals(await loc("img2img", { ...small, init_images: [encodeBase64(huge)] }), [422, [
        "body",
        "init_images",
        0,
      ]]);
      const grid = (values: string) => ({
        ...small,
        alwayson_scripts: { "Aesthetic embeddings": { args: [0.9, 1, 0.001, false, "tiny-demo"] } },
        xy_grid: { axis: "Aesthetic steps", values },
      });
      assertEquals(await loc("txt2img", grid("1,-5")), [422, ["body", "xy_grid", "values", 1]]);
      assertEquals(await loc("txt2img", grid("2.5")), [422, ["body", "xy_grid", "values", 0]]);
      // A save folder whose path runs through a file cannot be created.
      await Deno.mkdir(join(s.root, "outputs"), { recursive: true });
      await Deno.writeTextFile(join(s.root, "outputs", "afile"), "x");
      const [status, where] = await loc("txt2img", {
        ...small,
        save_images: true,
        override_settings: { outdir_samples: "afile/sub" },
      });
      assertEquals([status, where.at(-1)], [422, "outdir_samples"]);
    } finally {
      await s.close();
    }
  },
);

Deno.test("a job over --max-memory is refused before it runs, naming the option", opts, async () => {
  const s = await startServer({ maxMemoryBytes: 2 ** 30 });
  try {
    const r = await post(`${s.url}/sdapi/v1/txt2img`, { ...small, width: 512, height: 512 });
    const body = await r.json();
    assertEquals([r.status, body.detail[0].loc], [422, ["body", "width"]]);
    assertEquals(/--max-memory/.test(body.detail[0].msg), true, body.detail[0].msg);
    const ok = await post(`${s.url}/sdapi/v1/txt2img`, small);
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await s.close();
  }
});
