// PNG Info's "Send to txt2img/img2img" restores what A1111's paste restores: the hires fix (upscale, steps,
// upscaler, denoising strength, resize), inpainting (mask blur, inpaint area, masked content, padding, mask
// mode), the variation seed and strength, the seed resize and the noise source; and a generation then uses them.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import type { Page } from "playwright-core";
import { browserTest, shot, waitValue, withBrowser } from "./browser.ts";

const INFOTEXT = "a castle on a hill\nNegative prompt: fog\n" +
  "Steps: 3, Sampler: Euler, CFG scale: 6.5, Seed: 1234, Size: 64x72, Model: tiny-demo, " +
  "Variation seed: 4321, Variation seed strength: 0.3, Seed resize from: 128x96, Denoising strength: 0.45, " +
  "RNG: NV, Hires upscale: 1.5, Hires steps: 2, Hires upscaler: Latent (bicubic), Hires resize: 128x144, " +
  "Mask blur: 9, Inpaint area: Only masked, Masked area padding: 48, Masked content: latent noise, " +
  "Mask mode: Inpaint not masked";

async function values(page: Page, want: Record<string, string>) {
  for (const [sel, v] of Object.entries(want)) await waitValue(page, sel, v);
}

Deno.test(
  "PNG Info's paste restores hires, inpainting, variation seed and RNG fields",
  browserTest,
  async () => {
    await withBrowser(async ({ open }) => {
      const page = await open();
      await page.click("#tab_pnginfo");
      await page.fill("#pnginfo_text", INFOTEXT);
      await page.click("#pnginfo_send_txt2img");
      await page.waitForSelector("[data-panel=txt2img]:not([hidden])");
      await values(page, {
        "#txt2img_prompt": "a castle on a hill",
        "#txt2img_neg_prompt": "fog",
        "#txt2img_steps": "3",
        "#txt2img_width": "64",
        "#txt2img_height": "72",
        "#txt2img_seed": "1234",
        "#txt2img_hr_upscaler": "Latent (bicubic)",
        "#txt2img_hires_steps": "2",
        "#txt2img_denoising_strength": "0.45",
        "#txt2img_hr_scale": "1.5",
        "#txt2img_hr_resize_x": "128",
        "#txt2img_hr_resize_y": "144",
        "#txt2img_subseed": "4321",
        "#txt2img_subseed_strength": "0.3",
        "#txt2img_seed_resize_from_w": "128",
        "#txt2img_seed_resize_from_h": "96",
        "#txt2img_randn_source": "NV",
      });
      ok(await page.isChecked("#txt2img_enable_hr"), "the hires fix is switched on");
      ok(await page.isChecked("#txt2img_subseed_show"), "Extra is opened for the variation seed");
      await page.click("#txt2img_hr_accordion summary");
      await shot(page, "webui-pasted-txt2img", true);

      // The pasted fields are the ones the next generation uses.
      await page.click("#txt2img_generate");
      await page.waitForSelector("#txt2img_gallery img.main", { timeout: 60_000 });
      const info = (await page.textContent("#txt2img_infotext"))!;
      for (
        const part of [
          "Seed: 1234",
          "Size: 64x72",
          "Variation seed: 4321, Variation seed strength: 0.3, Seed resize from: 128x96",
          "Denoising strength: 0.45",
          "RNG: NV",
          "Hires resize: 128x144, Hires steps: 2, Hires upscaler: Latent (bicubic)",
        ]
      ) ok(info.includes(part), `${part} in ${info}`);

      await page.click("#tab_pnginfo");
      await page.click("#pnginfo_send_img2img");
      await page.waitForSelector("[data-panel=img2img]:not([hidden])");
      await values(page, {
        "#img2img_prompt": "a castle on a hill",
        "#img2img_denoising_strength": "0.45",
        "#img2img_mask_blur": "9",
        "#img2img_inpaint_full_res": "1",
        "#img2img_inpaint_full_res_padding": "48",
        "#img2img_inpainting_fill": "2",
        "#img2img_mask_mode": "1",
        "#img2img_subseed": "4321",
        "#img2img_subseed_strength": "0.3",
        "#img2img_seed_resize_from_w": "128",
        "#img2img_seed_resize_from_h": "96",
        "#img2img_randn_source": "NV",
      });
      await page.click("#img2img_inpaint_accordion summary");
      await shot(page, "webui-pasted-img2img", true);

      // An infotext without those fields puts A1111's defaults back.
      await page.click("#tab_pnginfo");
      await page.fill(
        "#pnginfo_text",
        "a tree\nSteps: 4, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 64x64",
      );
      await page.click("#pnginfo_send_img2img");
      await values(page, {
        "#img2img_prompt": "a tree",
        "#img2img_inpaint_full_res": "0",
        "#img2img_inpainting_fill": "1",
        "#img2img_mask_mode": "0",
        "#img2img_inpaint_full_res_padding": "32",
      });
      assertEquals(await page.isChecked("#img2img_subseed_show"), false);
      await page.check("#img2img_subseed_show");
      await values(page, { "#img2img_subseed_strength": "0", "#img2img_randn_source": "GPU" });
    });
  },
);
