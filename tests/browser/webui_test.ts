// The WebUI in Debian's Chromium (driven by playwright-core) against the real server and the tiny demo model:
// generate with the aesthetic extension on, read the infotext and chart, make an embedding in the extension's
// tab and find it in the dropdown after a refresh. Screenshots go to artifacts/ (gitignored).
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { FIXTURES } from "../fixtures.ts";
import { startServer } from "../routes/server.ts";
import { CHROMIUM } from "../setup.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "artifacts");

Deno.test({
  name: "WebUI: generate with the aesthetic extension, then create an embedding and find it after refresh",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const src = await Deno.makeTempDir({ prefix: "webui-images-" });
    for (const f of ["rgb.png", "rgb.jpg", "palette.png", "gray.png"]) {
      await Deno.copyFile(join(FIXTURES, "images", f), join(src, f));
    }
    const server = await startServer();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForSelector("body[data-hydrated=true]");
      await page.screenshot({ path: join(ARTIFACTS, "webui-txt2img.png") });

      await page.fill("#txt2img_prompt", "a lighthouse at dusk");
      await page.fill("#txt2img_steps", "3");
      await page.fill("#txt2img_width", "64");
      await page.fill("#txt2img_height", "64");
      await page.fill("#txt2img_seed", "123");
      await page.click("#txt2img_aesthetic_accordion summary");
      await page.selectOption("#txt2img_aesthetic_embedding", "tiny-demo");
      await page.fill("#txt2img_aesthetic_steps", "4");
      await page.fill("#txt2img_aesthetic_lr", "0.001");
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
      await page.screenshot({ path: join(ARTIFACTS, "webui-generated.png"), fullPage: true });

      // ♻️ reuses the last seed, 🎲 goes back to random.
      await page.click("#txt2img_random_seed");
      assertEquals(await page.inputValue("#txt2img_seed"), "-1");
      await page.click("#txt2img_reuse_seed");
      assertEquals(await page.inputValue("#txt2img_seed"), "123");

      // The extension's tab makes an embedding from the folder.
      await page.click("#tab_aesthetic-embedding");
      await page.fill("#ae_name", "from-browser");
      await page.fill("#ae_source", src);
      await page.fill("#ae_batch", "2");
      await page.click("#ae_create");
      await page.waitForSelector("#ae_result", { timeout: 60_000 });
      const result = await page.textContent("#ae_result");
      ok(result?.startsWith("Created from-browser from 4 images"), result ?? "");
      await page.screenshot({ path: join(ARTIFACTS, "webui-embedding-tab.png") });

      // Back in txt2img, the dropdown lists it after a refresh.
      await page.click("#tab_txt2img");
      const options = () => page.locator("#txt2img_aesthetic_embedding option").allTextContents();
      assertEquals(await options(), ["None", "tiny-demo"]);
      await page.click("#txt2img_aesthetic_embedding_refresh");
      await page.waitForFunction(() =>
        document.querySelectorAll("#txt2img_aesthetic_embedding option").length === 3
      );
      assertEquals(await options(), ["None", "from-browser", "tiny-demo"]);
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(src, { recursive: true });
    }
  },
});
