// The "Hires. fix" accordion (txt2img) and the "Inpaint" accordion (img2img, a mask upload) in Debian's Chromium
// against the real server and the tiny demo model: the hires image comes back at the upscaled size, and both
// infotexts carry A1111's fields. Screenshots go to artifacts/.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { encodePng, type RgbImage } from "../../lib/io/image.ts";
import { FIXTURES } from "../fixtures.ts";
import { startServer } from "../routes/server.ts";
import { CHROMIUM } from "../setup.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "artifacts");

Deno.test({
  name: "WebUI: hires fix and inpainting from their accordions",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const dir = await Deno.makeTempDir({ prefix: "webui-inpaint-" });
    const mask: RgbImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
    for (let y = 16; y < 40; y++) mask.data.fill(255, (y * 64 + 16) * 3, (y * 64 + 40) * 3);
    await Deno.writeFile(join(dir, "mask.png"), await encodePng(mask));
    const server = await startServer();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForSelector("body[data-hydrated=true]");

      await page.fill("#txt2img_prompt", "a lighthouse");
      await page.fill("#txt2img_steps", "2");
      await page.fill("#txt2img_width", "64");
      await page.fill("#txt2img_height", "64");
      await page.click("#txt2img_hr_accordion summary");
      await page.check("#txt2img_enable_hr");
      await page.selectOption("#txt2img_hr_upscaler", "Lanczos");
      await page.fill("#txt2img_hr_scale", "1.5");
      await page.fill("#txt2img_hires_steps", "2");
      await page.click("#txt2img_generate");
      await page.waitForSelector("#txt2img_gallery img.main", { timeout: 60_000 });
      const size = await page.$eval(
        "#txt2img_gallery img.main",
        (i) => [(i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).naturalHeight],
      );
      assertEquals(size, [96, 96]);
      const t2i = await page.textContent("#txt2img_infotext");
      for (const f of ["Size: 64x64", "Hires upscale: 1.5", "Hires steps: 2", "Hires upscaler: Lanczos"]) {
        ok(t2i!.includes(f), `${f} in ${t2i}`);
      }
      await page.screenshot({ path: join(ARTIFACTS, "webui-hires.png"), fullPage: true });

      await page.click("#tab_img2img");
      await page.setInputFiles("#img2img_image", join(FIXTURES, "images", "init_64.png"));
      await page.fill("#img2img_prompt", "a boat");
      await page.fill("#img2img_steps", "3");
      await page.fill("#img2img_width", "64");
      await page.fill("#img2img_height", "64");
      await page.click("#img2img_inpaint_accordion summary");
      await page.setInputFiles("#img2img_mask", join(dir, "mask.png"));
      await page.waitForSelector("#img2img_inpaint_accordion img");
      await page.selectOption("#img2img_inpaint_full_res", "1");
      await page.click("#img2img_generate");
      await page.waitForSelector("#img2img_gallery img.main", { timeout: 60_000 });
      const i2i = await page.textContent("#img2img_infotext");
      for (const f of ["Mask blur: 4", "Inpaint area: Only masked", "Masked area padding: 32"]) {
        ok(i2i!.includes(f), `${f} in ${i2i}`);
      }
      await page.screenshot({ path: join(ARTIFACTS, "webui-inpaint.png"), fullPage: true });
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
