// The X/Y plot with A1111's range syntax: "0-4 (+2)" runs three values, the grid comes first with a header
// naming the axis and each value, each image is labelled, and a prompt of two chunks gets a chart legend.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { browserTest, shot, typeInto, typeNumber, withBrowser } from "./browser.ts";

Deno.test(
  "X/Y plot: range syntax, labelled grid, chart legend for a two-chunk prompt",
  browserTest,
  async () => {
    await withBrowser(async ({ open }) => {
      const page = await open();
      // 80 words: two 75-token chunks, one similarity line each.
      await typeInto(page, "#txt2img_prompt", Array(80).fill("sea").join(" "));
      await typeNumber(page, "#txt2img_steps", "2");
      await typeNumber(page, "#txt2img_width", "64");
      await typeNumber(page, "#txt2img_height", "64");
      await page.click("#txt2img_aesthetic_accordion summary");
      await page.selectOption("#txt2img_aesthetic_embedding", "tiny-demo");
      await page.click("#txt2img_xy_accordion summary");
      await page.selectOption("#txt2img_xy_axis", "Aesthetic steps");
      await typeInto(page, "#txt2img_xy_values", "0-4 (+2)");
      await page.click("#txt2img_generate");
      await page.waitForSelector("#txt2img_gallery .thumb", { timeout: 60_000 });
      assertEquals(
        await page.locator("#txt2img_gallery .thumb small").allTextContents(),
        ["Aesthetic steps: 0, 2, 4", "Aesthetic steps: 0", "Aesthetic steps: 2", "Aesthetic steps: 4"],
      );
      // The grid is three 64 px images wide, with a header above them.
      const size = await page.locator("#txt2img_gallery img.main").evaluate((img) => [
        (img as HTMLImageElement).naturalWidth,
        (img as HTMLImageElement).naturalHeight,
      ]);
      assertEquals(size[0], 192);
      ok(size[1] > 64, `a header above the images: ${size}`);
      const gridInfo = (await page.textContent("#txt2img_infotext"))!;
      ok(gridInfo.endsWith(', Script: X/Y/Z plot, X Type: Aesthetic steps, X Values: "0, 2, 4"'), gridInfo);
      const legends = await page.locator("#txt2img_charts .legend").first().textContent();
      assertEquals(legends, "chunk 1chunk 2");
      await shot(page, "webui-xy-plot", true);
    });
  },
);
