// The hires fix and inpainting through the A1111 API: enable_hr / hr_* on txt2img and mask / inpainting_* on
// img2img reach the pipeline, the images have the right size, and the infotext carries A1111's fields.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { decodeImage, encodePng, loadImage, type RgbImage } from "../../lib/io/image.ts";
import { parseInfotext } from "../../lib/io/infotext.ts";
import { encodeBase64 } from "../../routes/sdapi.ts";
import { FIXTURES } from "../fixtures.ts";
import { post, startServer } from "./server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function decoded(b64: string): Promise<RgbImage> {
  const d = await decodeImage(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  if (!d.ok) throw new Error(d.skip.message);
  return d.image;
}

Deno.test("API: hires fix and inpainting", opts, async () => {
  const s = await startServer();
  try {
    const call = async (path: string, body: unknown) => {
      const r = await post(`${s.url}/sdapi/v1/${path}`, body);
      const json = await r.json();
      return { status: r.status, ...json, info: json.info ? JSON.parse(json.info) : undefined };
    };
    const hires = await call("txt2img", {
      prompt: "a lighthouse",
      steps: 2,
      width: 32,
      height: 32,
      seed: 3,
      enable_hr: true,
      hr_scale: 2,
      hr_upscaler: "Latent (nearest-exact)",
      hr_second_pass_steps: 2,
      denoising_strength: 0.5,
    });
    assertEquals(hires.status, 200, JSON.stringify(hires.detail));
    const big = await decoded(hires.images[0]);
    assertEquals([big.width, big.height], [64, 64]);
    const f = new Map(parseInfotext(hires.info.infotexts[0]).params);
    assertEquals(
      ["Size", "Denoising strength", "Hires upscale", "Hires steps", "Hires upscaler"].map((k) => f.get(k)),
      ["32x32", "0.5", "2", "2", "Latent (nearest-exact)"],
    );

    const loaded = await loadImage(join(FIXTURES, "images", "init_64.png"));
    if (!loaded.ok) throw new Error(loaded.skip.message);
    const init = loaded.image;
    const mask: RgbImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
    for (let y = 16; y < 40; y++) mask.data.fill(255, (y * 64 + 16) * 3, (y * 64 + 40) * 3);
    const inpaint = await call("img2img", {
      prompt: "a boat",
      steps: 3,
      width: 64,
      height: 64,
      seed: 5,
      init_images: [encodeBase64(await encodePng(init))],
      mask: encodeBase64(await encodePng(mask)),
      mask_blur: 2,
      inpainting_fill: 1,
      inpaint_full_res: false,
      denoising_strength: 0.9,
    });
    assertEquals(inpaint.status, 200, JSON.stringify(inpaint.detail));
    const out = await decoded(inpaint.images[0]);
    let changed = 0;
    for (let p = 0; p < 64 * 64; p++) {
      const [x, y] = [p % 64, Math.floor(p / 64)];
      const same = [0, 1, 2].every((k) => out.data[3 * p + k] === init.data[3 * p + k]);
      if (x >= 10 && x < 46 && y >= 10 && y < 46) changed += same ? 0 : 1;
      else if (!same) throw new Error(`pixel ${x},${y} outside the mask changed`);
    }
    if (changed === 0) throw new Error("nothing was inpainted");
    const g = new Map(parseInfotext(inpaint.info.infotexts[0]).params);
    assertEquals([g.get("Mask blur"), g.get("Masked content"), g.get("Inpaint area")], [
      "2",
      undefined,
      undefined,
    ]);

    const wrongSize = await call("img2img", {
      init_images: [encodeBase64(await encodePng(init))],
      mask: encodeBase64(await encodePng({ width: 8, height: 8, data: new Uint8Array(192) })),
      steps: 2,
      width: 64,
      height: 64,
    });
    assertEquals([wrongSize.status, wrongSize.detail?.[0].loc.join(".")], [422, "body.mask"]);
  } finally {
    await s.close();
  }
});
