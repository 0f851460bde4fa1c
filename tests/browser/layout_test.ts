// The page at 1400 px and at 400 px: below ~900 px the form and the output stack, nothing overflows the
// width and the prompt spans it; one checkpoint selector sits at the top; the Settings tab's values are kept
// in config.json in the data folder and come back after a restart. Screenshots of every tab at both widths.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { browserTest, shot, typeNumber, waitValue, withBrowser } from "./browser.ts";

const TABS = ["txt2img", "img2img", "aesthetic-embedding", "pnginfo", "settings"];

async function box(page: Page, sel: string) {
  const b = await page.locator(sel).boundingBox();
  if (!b) throw new Error(`${sel} is not shown`);
  return b;
}

Deno.test("layout: columns at 1400 px, stacked and within the screen at 400 px", browserTest, async () => {
  await withBrowser(async ({ open }) => {
    for (const width of [1400, 400]) {
      const page = await open(width, 900);
      await page.click("#txt2img_aesthetic_accordion summary");
      for (const tab of TABS) {
        await page.click(`#tab_${tab}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
        ok(overflow <= width, `${tab} at ${width}: the page is ${overflow} px wide`);
        await shot(page, `webui-${tab}-${width}`, true);
      }
      await page.click("#tab_txt2img");
      const prompt = await box(page, "#txt2img_prompt");
      const steps = await box(page, "#txt2img_steps");
      const generate = await box(page, "#txt2img_generate");
      if (width === 400) {
        ok(prompt.width >= 360, `prompt ${prompt.width} px wide`);
        ok(generate.y > prompt.y + prompt.height - 1, "Generate under the prompts");
        ok(generate.width >= 360, `Generate ${generate.width} px wide`);
      } else {
        ok(generate.x > prompt.x + prompt.width, "Generate beside the prompts");
        ok(steps.x + steps.width < width / 2, "the form is the left column");
      }
    }
  });
});

Deno.test(
  "one checkpoint selector at the top; settings persist in config.json across a restart",
  browserTest,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "webui-settings-" });
    try {
      await withBrowser(async ({ open }) => {
        const page = await open();
        assertEquals(await page.locator("select#setting_sd_model_checkpoint").count(), 1);
        assertEquals(await page.locator("[data-panel] select[id$=_model]").count(), 0, "no per-tab selector");
        const header = await box(page, "#setting_sd_model_checkpoint");
        const tabs = await box(page, "#tab_txt2img");
        ok(header.y < tabs.y, "above the tabs");

        await page.click("#tab_settings");
        await typeNumber(page, "#setting_CLIP_stop_at_last_layers", "2");
        await page.selectOption("#setting_randn_source", "NV");
        await typeNumber(page, "#setting_eta_noise_seed_delta", "31337");
        await page.check("#setting_samples_save");
        await page.click("#settings_submit");
        await page.waitForSelector("#settings_result");
        assertEquals(
          await page.textContent("#settings_result"),
          `Settings saved to ${join(root, "config.json")}.`,
        );
        const saved = JSON.parse(await Deno.readTextFile(join(root, "config.json")));
        assertEquals(
          [
            saved.CLIP_stop_at_last_layers,
            saved.samples_save,
            saved.randn_source,
            saved.eta_noise_seed_delta,
          ],
          [2, true, "NV", 31337],
        );
      }, { root });
      await withBrowser(async ({ open }) => {
        const page = await open();
        await page.click("#tab_settings");
        await waitValue(page, "#setting_CLIP_stop_at_last_layers", "2");
        await waitValue(page, "#setting_eta_noise_seed_delta", "31337");
        await waitValue(page, "#setting_randn_source", "NV");
        ok(await page.isChecked("#setting_samples_save"));
      }, { root });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
