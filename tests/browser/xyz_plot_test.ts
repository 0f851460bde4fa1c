// The Scripts dropdown's X/Y/Z plot, typed key by key as a person does: A1111's axis rows, its range syntax,
// the grid first with its labels drawn on it, each cell labelled, and a two-chunk prompt's chart legend; then
// the same rows at 400 px, and a 50-value axis whose labels are wrapped to fit (the grid saved to artifacts/).
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import type { Page } from "playwright-core";
import sharp from "sharp";
import { ARTIFACTS, browserTest, shot, typeInto, typeNumber, withBrowser } from "./browser.ts";

async function mainImage(page: Page): Promise<Uint8Array> {
  const src = await page.getAttribute("#txt2img_gallery img.main", "src");
  return new Uint8Array(Buffer.from(src!.slice(src!.indexOf(",") + 1), "base64"));
}

/** Picks an axis type by its label, as a person does in the dropdown. */
async function axisType(page: Page, axis: "x" | "y" | "z", label: string) {
  await page.selectOption(`#txt2img_xyz_${axis}_type`, { label });
}

async function smallImages(page: Page, steps: string) {
  await typeNumber(page, "#txt2img_steps", steps);
  await typeNumber(page, "#txt2img_width", "64");
  await typeNumber(page, "#txt2img_height", "64");
}

Deno.test(
  "X/Y/Z plot from the Scripts dropdown: two axes, labelled grid, cells, legend",
  browserTest,
  async () => {
    await withBrowser(async ({ open }) => {
      const page = await open();
      // 80 words: two 75-token chunks, one similarity line each.
      await typeInto(page, "#txt2img_prompt", Array(80).fill("sea").join(" "));
      await smallImages(page, "2");
      await page.click("#txt2img_aesthetic_accordion summary");
      await page.selectOption("#txt2img_aesthetic_embedding", "tiny-demo");
      await page.selectOption("#txt2img_script", "X/Y/Z plot");
      assertEquals(
        await page.$eval("#txt2img_xyz_x_type", (s) => (s as HTMLSelectElement).selectedOptions[0].text),
        "Seed",
        "A1111's default X axis",
      );
      await axisType(page, "x", "Aesthetic steps");
      await typeInto(page, "#txt2img_xyz_x_values", "0-4 (+2)");
      await axisType(page, "y", "CFG Scale");
      await typeInto(page, "#txt2img_xyz_y_values", "5, 9");
      await page.check("#txt2img_xyz_includeLoneImages");
      await shot(page, "webui-xyz-plot-form-1400", true);
      await page.click("#txt2img_generate");
      await page.waitForSelector("#txt2img_gallery .thumb", { timeout: 120_000 });
      assertEquals(await page.locator("#txt2img_gallery .thumb small").allTextContents(), [
        "Aesthetic steps: 0, 2, 4; CFG Scale: 5, 9",
        "Aesthetic steps: 0, CFG Scale: 5",
        "Aesthetic steps: 2, CFG Scale: 5",
        "Aesthetic steps: 4, CFG Scale: 5",
        "Aesthetic steps: 0, CFG Scale: 9",
        "Aesthetic steps: 2, CFG Scale: 9",
        "Aesthetic steps: 4, CFG Scale: 9",
      ]);
      // Three 64 px columns and two rows, with the labels' margins above and at the left.
      const meta = await sharp(await mainImage(page)).metadata();
      ok(meta.width! > 192 && meta.height! > 128, `margins for the labels: ${meta.width}x${meta.height}`);
      const gridInfo = (await page.textContent("#txt2img_infotext"))!;
      ok(
        gridInfo.endsWith(
          'Script: X/Y/Z plot, X Type: Aesthetic steps, X Values: 0-4 (+2), Y Type: CFG Scale, Y Values: "5, 9"',
        ),
        gridInfo,
      );
      // A cell's own infotext is its image's.
      await page.locator("#txt2img_gallery .thumb").nth(6).click();
      const cell = (await page.textContent("#txt2img_infotext"))!;
      ok(/CFG scale: 9/.test(cell) && /Aesthetic steps: 4/.test(cell) && !/Script/.test(cell), cell);
      const legends = await page.locator("#txt2img_charts .legend").first().textContent();
      assertEquals(legends, "chunk 1chunk 2");
      await page.locator("#txt2img_gallery .thumb").first().click();
      await shot(page, "webui-xyz-plot-1400", true);
      // The grid's infotext gives the plot back (img2img's axis indices differ; the labels find them).
      await page.click("#txt2img_send_to_img2img");
      await page.waitForSelector("#img2img_xyz_x_type");
      const typeText = (n: string) =>
        page.$eval(`#img2img_xyz_${n}_type`, (s) => (s as HTMLSelectElement).selectedOptions[0].text);
      assertEquals([await typeText("x"), await typeText("y"), await typeText("z")], [
        "Aesthetic steps",
        "CFG Scale",
        "Nothing",
      ]);
      assertEquals(await page.inputValue("#img2img_xyz_x_values"), "0-4 (+2)");
      assertEquals(await page.inputValue("#img2img_xyz_y_values"), "5, 9");
    });
  },
);

Deno.test(
  "X/Y/Z plot at 400 px: the rows fit, a 50-value axis draws labels that fit",
  browserTest,
  async () => {
    await withBrowser(async ({ open }) => {
      const page = await open(400, 900);
      await typeInto(page, "#txt2img_prompt", "a lighthouse");
      await smallImages(page, "1");
      await page.selectOption("#txt2img_script", "X/Y/Z plot");
      await axisType(page, "x", "CFG Scale");
      await typeInto(page, "#txt2img_xyz_x_values", "1-10 [50]");
      await axisType(page, "y", "Sampler");
      await page.click("#txt2img_xyz_y_fill");
      ok(
        (await page.inputValue("#txt2img_xyz_y_values")).startsWith("DPM++ 2M, "),
        "filled with every sampler",
      );
      await typeInto(page, "#txt2img_xyz_y_values", "Euler");
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      ok(width <= 400, `the page is ${width} px wide`);
      for (const n of ["x", "y", "z"]) {
        const b = (await page.locator(`#txt2img_xyz_${n}_values`).boundingBox())!;
        ok(b.x >= 0 && b.x + b.width <= 400 && b.width >= 150, `${n} values: ${JSON.stringify(b)}`);
      }
      await shot(page, "webui-xyz-plot-form-400", true);
      await page.click("#txt2img_generate");
      await page.waitForSelector("#txt2img_gallery img.main", { timeout: 180_000 });
      const grid = await mainImage(page);
      await Deno.writeFile(join(ARTIFACTS, "xyz-grid-50-values.png"), grid);
      const meta = await sharp(grid).metadata();
      ok(meta.width! > 50 * 64 && meta.height! > 64, `50 columns and labels: ${meta.width}x${meta.height}`);
      ok((await page.textContent("#txt2img_infotext"))!.includes("X Type: CFG Scale, X Values: 1-10 [50]"));
      await shot(page, "webui-xyz-plot-400", true);
    });
  },
);
