// Issue 11's guard in the WebUI: on the demo world, choosing the pastel embedding in the "Aesthetic embeddings"
// panel gives an image that differs from the base image of the same seed and sits closer to pastel.
import { ok } from "node:assert";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  assertMovedTowardStyle,
  DEMO_AESTHETIC,
  DEMO_PROMPT,
  DEMO_SEED,
  DEMO_STYLE,
  demoEmbeddingPath,
} from "../routes/demo_world.ts";
import { browserTest, shot, typeInto, typeNumber, withBrowser } from "./browser.ts";

/** Generates and returns the main image's PNG bytes once the infotext says the run is this one. */
async function generate(page: Page, infotextHas: string): Promise<Uint8Array> {
  await page.click("#txt2img_generate");
  await page.waitForFunction(
    (want) => document.querySelector("#txt2img_infotext")?.textContent?.includes(want) ?? false,
    infotextHas,
    { timeout: 120_000 },
  );
  const src = await page.getAttribute("#txt2img_gallery img.main", "src");
  ok(src?.startsWith("data:image/png;base64,"), `gallery image: ${src?.slice(0, 40)}`);
  return Uint8Array.from(atob(src!.slice(src!.indexOf(",") + 1)), (c) => c.charCodeAt(0));
}

Deno.test(
  "demo world in the WebUI: the aesthetic panel moves the image toward the style",
  browserTest,
  async () => {
    await withBrowser(async ({ open, server }) => {
      await Deno.copyFile(demoEmbeddingPath, join(server.embeddingsDir, `${DEMO_STYLE}.pt`));
      const page = await open();
      await typeInto(page, "#txt2img_prompt", DEMO_PROMPT);
      await typeNumber(page, "#txt2img_seed", String(DEMO_SEED));
      const base = await generate(page, `Seed: ${DEMO_SEED}`);

      await page.click("#txt2img_aesthetic_accordion summary");
      await page.waitForSelector(`#txt2img_aesthetic_embedding option[value="${DEMO_STYLE}"]`, {
        state: "attached",
      });
      await page.selectOption("#txt2img_aesthetic_embedding", DEMO_STYLE);
      await typeNumber(page, "#txt2img_aesthetic_steps", String(DEMO_AESTHETIC.steps));
      await typeNumber(page, "#txt2img_aesthetic_lr", String(DEMO_AESTHETIC.lr));
      await typeNumber(page, "#txt2img_aesthetic_weight", String(DEMO_AESTHETIC.weight));
      const personalized = await generate(page, `Aesthetic embedding: ${DEMO_STYLE}`);
      await shot(page, "webui-demo-world-personalized", true);
      await assertMovedTowardStyle(base, personalized);
    }, { model: "demo-world" });
  },
);
