// The page draws first at the checkpoint's native size (its UNet's sample size × the VAE factor), and choosing
// another checkpoint at the top moves both generation tabs to that model's size.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { MODELS_DIR } from "../../lib/models/defaults.ts";
import { browserTest, waitValue, withBrowser } from "./browser.ts";

/** A copy of the demo whose UNet config says sample size 32: native 256 (the VAE factor is 8). */
async function modelsWithTwoSizes(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "native-size-" });
  const copy = async (from: string, to: string) => {
    await Deno.mkdir(to, { recursive: true });
    for await (const e of Deno.readDir(from)) {
      if (e.isDirectory) await copy(join(from, e.name), join(to, e.name));
      else await Deno.copyFile(join(from, e.name), join(to, e.name));
    }
  };
  await copy(join(MODELS_DIR, "tiny-demo"), join(dir, "tiny-demo"));
  await copy(join(MODELS_DIR, "tiny-demo"), join(dir, "tiny-demo-wide"));
  const config = join(dir, "tiny-demo-wide", "unet", "config.json");
  const unet = JSON.parse(await Deno.readTextFile(config));
  await Deno.writeTextFile(config, JSON.stringify({ ...unet, sample_size: 32 }));
  return dir;
}

Deno.test(
  "the tabs start at the checkpoint's native size and follow the checkpoint chosen",
  browserTest,
  async () => {
    const modelsDir = await modelsWithTwoSizes();
    try {
      await withBrowser(async ({ open }) => {
        const page = await open();
        for (const id of ["#txt2img_width", "#txt2img_height", "#img2img_width"]) {
          await waitValue(page, id, "64");
        }
        await page.selectOption("#setting_sd_model_checkpoint", "tiny-demo-wide");
        for (const id of ["#txt2img_width", "#txt2img_height", "#img2img_width", "#img2img_height"]) {
          await waitValue(page, id, "256");
        }
        assertEquals(await page.inputValue("#setting_sd_model_checkpoint"), "tiny-demo-wide");
      }, { modelsDir, model: "tiny-demo" });
    } finally {
      await Deno.remove(modelsDir, { recursive: true });
    }
  },
);
