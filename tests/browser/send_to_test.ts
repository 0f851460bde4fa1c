// "Send to img2img/txt2img" carries everything of the selected image (prompt, negative prompt, size, its own
// seed, steps, sampler, CFG, the aesthetic fields, and the image itself); PNG Info sends the image too; images
// can be dropped or pasted into img2img and PNG Info.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import type { Page } from "playwright-core";
import { browserTest, shot, typeInto, typeNumber, waitValue, withBrowser } from "./browser.ts";

/** Drops (or pastes) a PNG given as base64 onto `selector` (or the document), as a file from the desktop. */
async function dropImage(page: Page, b64: string, how: "drop" | "paste", selector?: string): Promise<void> {
  await page.evaluate(({ b64, how, selector }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
    const target = selector ? document.querySelector(selector)! : document;
    const event = how === "drop"
      ? new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true })
      : new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true });
    target.dispatchEvent(event);
  }, { b64, how, selector });
}

const imageSrc = (page: Page, sel: string) =>
  page.locator(sel).evaluate((img) => (img as HTMLImageElement).src.split(",")[1]);

Deno.test(
  "send-to carries every field of the selected image; PNG Info and drop/paste carry images",
  browserTest,
  async () => {
    await withBrowser(async ({ open }) => {
      const page = await open();
      const sampler = (await page.locator("#txt2img_sampling option").allTextContents())[1];
      await typeInto(page, "#txt2img_prompt", "a red lighthouse");
      await typeInto(page, "#txt2img_neg_prompt", "blurry");
      await page.selectOption("#txt2img_sampling", sampler);
      await typeNumber(page, "#txt2img_steps", "3");
      await typeNumber(page, "#txt2img_width", "64");
      await typeNumber(page, "#txt2img_height", "56");
      await typeNumber(page, "#txt2img_batch_count", "2");
      await typeNumber(page, "#txt2img_cfg_scale", "6.5");
      await typeNumber(page, "#txt2img_seed", "77");
      await page.click("#txt2img_aesthetic_accordion summary");
      await page.selectOption("#txt2img_aesthetic_embedding", "tiny-demo");
      await typeNumber(page, "#txt2img_aesthetic_steps", "2");
      await typeNumber(page, "#txt2img_aesthetic_weight", "0.5");
      await page.click("#txt2img_generate");
      await page.waitForSelector("#txt2img_gallery .thumb", { timeout: 60_000 });

      // The batch's grid comes first; the second image (seed 78) is selected and sent.
      assertEquals(await page.locator("#txt2img_gallery .thumb").count(), 3);
      const grid = await page.locator("#txt2img_gallery img.main").evaluate((img) => [
        (img as HTMLImageElement).naturalWidth,
        (img as HTMLImageElement).naturalHeight,
      ]);
      assertEquals(grid, [128, 56], "two 64x56 images side by side");
      assertEquals(await page.getAttribute("#txt2img_download", "download"), "grid-77.png");
      await page.locator("#txt2img_gallery .thumb").nth(2).click();
      await page.waitForFunction(() =>
        document.querySelector("#txt2img_infotext")?.textContent?.includes("Seed: 78")
      );
      const second = await imageSrc(page, "#txt2img_gallery img.main");
      await page.click("#txt2img_send_to_img2img");
      await page.waitForSelector("[data-panel=img2img]:not([hidden])");
      await page.waitForFunction(() =>
        (document.querySelector("#img2img_prompt") as HTMLTextAreaElement).value === "a red lighthouse"
      );
      const fields = {
        "#img2img_neg_prompt": "blurry",
        "#img2img_sampling": sampler,
        "#img2img_steps": "3",
        "#img2img_width": "64",
        "#img2img_height": "56",
        "#img2img_cfg_scale": "6.5",
        "#img2img_seed": "78",
        "#img2img_aesthetic_embedding": "tiny-demo",
        "#img2img_aesthetic_steps": "2",
        "#img2img_aesthetic_weight": "0.5",
      };
      for (const [sel, want] of Object.entries(fields)) await waitValue(page, sel, want);
      assertEquals(await imageSrc(page, "#img2img_image_drop img"), second, "the selected image went along");
      await shot(page, "webui-sent-to-img2img");

      // ♻️ in txt2img takes the selected image's seed; the download is named after it.
      await page.click("#tab_txt2img");
      await page.click("#txt2img_reuse_seed");
      await waitValue(page, "#txt2img_seed", "78");
      assertEquals(await page.getAttribute("#txt2img_download", "download"), "00001-78.png");

      // PNG Info reads the PNG and sends it, image included, to img2img.
      const first = await page.locator("#txt2img_gallery .thumb img").first().evaluate((img) =>
        (img as HTMLImageElement).src.split(",")[1]
      );
      await page.click("#tab_pnginfo");
      await dropImage(page, first, "drop", "#pnginfo_image_drop");
      await page.waitForSelector("#pnginfo_html");
      ok((await page.textContent("#pnginfo_html"))!.includes("Seed: 77"));
      await page.click("#pnginfo_send_img2img");
      await page.waitForFunction(() =>
        (document.querySelector("#img2img_seed") as HTMLInputElement).value === "77"
      );
      assertEquals(await imageSrc(page, "#img2img_image_drop img"), first);

      // A pasted image replaces img2img's source.
      await dropImage(page, second, "paste");
      await page.waitForFunction(
        (b64) => (document.querySelector("#img2img_image_drop img") as HTMLImageElement).src.endsWith(b64),
        second,
      );
    });
  },
);
