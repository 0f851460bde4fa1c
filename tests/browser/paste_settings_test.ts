// Pasting an infotext restores what A1111 restores beyond the form: the settings it names (ENSD, RNG, Clip
// skip) become the request's "Override settings" where they differ from the server's, each removable, and the
// next image is made (and labelled) with them.
import { ok } from "node:assert";
import { browserTest, withBrowser } from "./browser.ts";

Deno.test(
  "PNG Info → txt2img: ENSD and RNG become override settings the next image uses",
  browserTest,
  async () => {
    await withBrowser(async ({ open }) => {
      const page = await open();
      await page.click("#tab_pnginfo");
      await page.fill(
        "#pnginfo_text",
        "a lighthouse\nSteps: 2, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 64x64, Clip skip: 1, ENSD: 31337, RNG: CPU",
      );
      await page.click("#pnginfo_send_txt2img");
      await page.waitForSelector("#txt2img_override_settings");
      const shown = (await page.textContent("#txt2img_override_settings"))!;
      ok(shown.includes("ENSD: 31337") && shown.includes("RNG: CPU"), shown);
      ok(!shown.includes("Clip skip"), "Clip skip 1 is the server's own: no override");
      await page.click('#txt2img_override_settings button[data-option="randn_source"]');
      await page.click("#txt2img_generate");
      await page.waitForSelector("#txt2img_gallery img.main", { timeout: 60_000 });
      const info = (await page.textContent("#txt2img_infotext"))!;
      ok(info.includes("ENSD: 31337") && !info.includes("RNG:"), info);
    });
  },
);
