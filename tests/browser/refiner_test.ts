// The Refiner accordion in Debian's Chromium against the real server with tiny-sdxl and tiny-sdxl-refiner: the
// refiner is offered there (and not as a checkpoint), and the image's infotext names it as A1111 does.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { linkFixture } from "../lib/models/model_dirs.ts";
import { browserTest, shot, withBrowser } from "./browser.ts";

Deno.test("WebUI: an SDXL refiner from the Refiner accordion", browserTest, async () => {
  const modelsDir = await Deno.makeTempDir({ prefix: "webui-refiner-" });
  try {
    await linkFixture("tiny-sdxl", join(modelsDir, "xl"));
    await linkFixture("tiny-sdxl-refiner", join(modelsDir, "xl-refiner"));
    await withBrowser(async ({ open }) => {
      const page = await open();
      const checkpoints = await page.$$eval(
        "#setting_sd_model_checkpoint option",
        (o) => o.map((x) => x.textContent),
      );
      assertEquals(checkpoints, ["xl"]);
      await page.fill("#txt2img_prompt", "a lighthouse");
      await page.fill("#txt2img_steps", "4");
      await page.click("#txt2img_refiner_accordion summary");
      await page.check("#txt2img_enable_refiner");
      const refiner = await page.inputValue("#txt2img_refiner_checkpoint");
      ok(refiner.startsWith("xl-refiner ["), refiner);
      await page.fill("#txt2img_refiner_switch_at", "0.5");
      await page.click("#txt2img_generate");
      await page.waitForSelector("#txt2img_gallery img.main", { timeout: 60_000 });
      const info = (await page.textContent("#txt2img_infotext"))!;
      for (const f of [`Refiner: ${refiner}`, "Refiner switch at: 0.5"]) {
        ok(info.includes(f), `${f} in ${info}`);
      }
      await shot(page, "webui-refiner", true);
    }, { modelsDir, model: "xl" });
  } finally {
    await Deno.remove(modelsDir, { recursive: true });
  }
});
