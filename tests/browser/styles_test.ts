// Prompt styles (A1111's styles.csv) in the page: the styles dropdown lists them, and the chosen ones are
// applied to the prompts of the job, as the infotext shows.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { browserTest, typeInto, typeNumber, withBrowser } from "./browser.ts";

Deno.test(
  "the styles dropdown lists styles.csv, and a chosen style reaches the prompt",
  browserTest,
  async () => {
    await withBrowser(async ({ open }) => {
      const page = await open();
      assertEquals(await page.locator("#txt2img_styles option").allTextContents(), ["my style", "plain"]);
      await typeInto(page, "#txt2img_prompt", "a lighthouse");
      await page.selectOption("#txt2img_styles", ["my style"]);
      await typeNumber(page, "#txt2img_steps", "2");
      await typeNumber(page, "#txt2img_width", "32");
      await typeNumber(page, "#txt2img_height", "32");
      await page.click("#txt2img_generate");
      await page.waitForFunction(() =>
        document.querySelector("#txt2img_infotext")?.textContent?.includes("Steps: 2")
      );
      const infotext = (await page.textContent("#txt2img_infotext"))!;
      ok(infotext.startsWith("a lighthouse, oil painting"), infotext);
      ok(infotext.includes("Negative prompt: lowres"), infotext);
    });
  },
);
