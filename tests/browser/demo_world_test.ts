// Issue 11's guard in the WebUI: on the demo world, choosing the pastel embedding in the "Aesthetic embeddings"
// panel gives images that differ from the base images of the same seed and sit closer to pastel on average.
import { ok } from "node:assert";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  assertMovedTowardAesthetic,
  DEMO_AESTHETIC,
  DEMO_PROMPTS,
  DEMO_SEED,
  DEMO_STYLE,
  demoEmbeddingPath,
} from "../routes/demo_world.ts";
import { browserTest, shot, typeInto, typeNumber, withBrowser } from "./browser.ts";

/** Generates `prompt` and returns the main image's PNG bytes once the infotext shows this run. */
async function generate(page: Page, prompt: string, personalized: boolean): Promise<Uint8Array> {
  await typeInto(page, "#txt2img_prompt", prompt);
  await page.click("#txt2img_generate");
  await page.waitForFunction(
    ([p, aesthetic]) => {
      const text = document.querySelector("#txt2img_infotext")?.textContent ?? "";
      return text.startsWith(`${p}\n`) && text.includes("Aesthetic embedding:") === aesthetic;
    },
    [prompt, personalized] as const,
    { timeout: 120_000 },
  );
  const src = await page.getAttribute("#txt2img_gallery img.main", "src");
  ok(src?.startsWith("data:image/png;base64,"), `gallery image: ${src?.slice(0, 40)}`);
  return Uint8Array.from(atob(src!.slice(src!.indexOf(",") + 1)), (c) => c.charCodeAt(0));
}

Deno.test(
  "demo world in the WebUI: the aesthetic panel moves images toward the style",
  browserTest,
  async () => {
    await withBrowser(async ({ open, server }) => {
      await Deno.copyFile(demoEmbeddingPath, join(server.embeddingsDir, `${DEMO_STYLE}.pt`));
      const page = await open();
      // The API test's settings: DDIM, 20 steps, CFG 7.5, the held-out prompts with one seed.
      await page.selectOption("#txt2img_sampling", "DDIM");
      await typeNumber(page, "#txt2img_steps", "20");
      await typeNumber(page, "#txt2img_cfg_scale", "7.5");
      await typeNumber(page, "#txt2img_seed", String(DEMO_SEED));
      const base: Uint8Array[] = [];
      for (const prompt of DEMO_PROMPTS) base.push(await generate(page, prompt, false));

      await page.click("#txt2img_aesthetic_accordion summary");
      await page.selectOption("#txt2img_aesthetic_embedding", DEMO_STYLE);
      await typeNumber(page, "#txt2img_aesthetic_steps", String(DEMO_AESTHETIC.steps));
      await typeNumber(page, "#txt2img_aesthetic_lr", String(DEMO_AESTHETIC.lr));
      await typeNumber(page, "#txt2img_aesthetic_weight", String(DEMO_AESTHETIC.weight));
      const pairs = [];
      for (const [i, prompt] of DEMO_PROMPTS.entries()) {
        pairs.push({ prompt, base: base[i], personalized: await generate(page, prompt, true) });
      }
      await shot(page, "webui-demo-world-personalized", true);
      await assertMovedTowardAesthetic(pairs);
    }, { model: "demo-world" });
  },
);
