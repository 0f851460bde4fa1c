// The WebUI in Debian's Chromium against the real server and the tiny demo model: generate with the aesthetic
// extension on, read the infotext and chart, make an embedding in the extension's tab and find it in every
// embedding dropdown at once.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { FIXTURES } from "../fixtures.ts";
import { browserTest, shot, typeInto, typeNumber, withBrowser } from "./browser.ts";

Deno.test(
  "WebUI: generate with the aesthetic extension, then create an embedding that every dropdown lists",
  browserTest,
  async () => {
    const src = await Deno.makeTempDir({ prefix: "webui-images-" });
    for (const f of ["rgb.png", "rgb.jpg", "palette.png", "gray.png"]) {
      await Deno.copyFile(join(FIXTURES, "images", f), join(src, f));
    }
    try {
      await withBrowser(async ({ open }) => {
        const page = await open();
        await shot(page, "webui-txt2img");
        await typeInto(page, "#txt2img_prompt", "a lighthouse at dusk");
        await typeNumber(page, "#txt2img_steps", "3");
        await typeNumber(page, "#txt2img_width", "64");
        await typeNumber(page, "#txt2img_height", "64");
        await typeNumber(page, "#txt2img_seed", "123");
        await page.click("#txt2img_aesthetic_accordion summary");
        await page.selectOption("#txt2img_aesthetic_embedding", "tiny-demo");
        await typeNumber(page, "#txt2img_aesthetic_steps", "4");
        await typeNumber(page, "#txt2img_aesthetic_lr", "0.001");
        await page.click("#txt2img_generate");
        await page.waitForSelector("#txt2img_gallery img.main", { timeout: 60_000 });
        const infotext = await page.textContent("#txt2img_infotext");
        ok(infotext?.startsWith("a lighthouse at dusk\nSteps: 3"), infotext ?? "");
        for (
          const f of [
            "Seed: 123",
            "Aesthetic steps: 4",
            "Aesthetic embedding: tiny-demo",
            "Aesthetic LR: 0.001",
          ]
        ) {
          ok(infotext!.includes(f), `${f} in ${infotext}`);
        }
        assertEquals(await page.locator("#txt2img_charts svg polyline").count(), 1);
        assertEquals(
          await page.locator("#txt2img_charts svg circle").count(),
          5,
          "similarity before 4 steps and after",
        );
        await shot(page, "webui-generated", true);

        // The extension's tab makes an embedding from the folder.
        await page.click("#tab_aesthetic-embedding");
        await page.click("#ae_source_server");
        await typeInto(page, "#ae_name", "from-browser");
        await typeInto(page, "#ae_source", src);
        await typeInto(page, "#ae_batch", "2");
        await page.click("#ae_create");
        await page.waitForSelector("#ae_result", { timeout: 60_000 });
        const result = await page.textContent("#ae_result");
        ok(result?.startsWith("Created from-browser from 4 images"), result ?? "");
        await shot(page, "webui-embedding-tab");

        // Every embedding dropdown lists it without a refresh.
        for (const mode of ["txt2img", "img2img"]) {
          await page.waitForFunction(
            (m) => document.querySelectorAll(`#${m}_aesthetic_embedding option`).length === 3,
            mode,
          );
          assertEquals(
            await page.locator(`#${mode}_aesthetic_embedding option`).allTextContents(),
            ["None", "from-browser", "tiny-demo"],
          );
        }
      });
    } finally {
      await Deno.remove(src, { recursive: true });
    }
  },
);
