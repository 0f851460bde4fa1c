// Pasting an infotext restores what A1111 restores beyond the form: the settings it names (ENSD, Clip skip)
// become the request's "Override settings" where they differ from the server's, each removable; the noise
// source goes to the seed's Extra options; the next image is made (and labelled) with them.
import { ok } from "node:assert";
import { browserTest, withBrowser } from "./browser.ts";

Deno.test(
  "PNG Info → txt2img: ENSD becomes an override setting and RNG the seed's source, which the next image uses",
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
      ok(shown.includes("ENSD: 31337") && !shown.includes("RNG"), shown);
      ok(!shown.includes("Clip skip"), "Clip skip 1 is the server's own: no override");
      await page.check("#txt2img_subseed_show");
      ok((await page.inputValue("#txt2img_randn_source")) === "CPU", "RNG goes to the seed's Extra options");
      await page.click("#txt2img_generate");
      await page.waitForSelector("#txt2img_gallery img.main", { timeout: 60_000 });
      const info = (await page.textContent("#txt2img_infotext"))!;
      ok(info.includes("ENSD: 31337") && info.includes("RNG: CPU"), info);
    });
  },
);
