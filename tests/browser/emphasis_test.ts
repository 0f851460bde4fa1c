// Ctrl+↑/↓ emphasis in the prompt boxes as A1111's edit-attention, on a selection made with the keyboard, at
// 1400 px and at 400 px (where the layout stacks and a long prompt wraps over several lines).
import { deepStrictEqual as assertEquals } from "node:assert";
import type { Page } from "playwright-core";
import { browserTest, shot, typeInto, waitValue, withBrowser } from "./browser.ts";

const PROMPT = "a painting of a lighthouse on a rocky coast at dusk, dramatic clouds, oil on canvas";

async function selection(page: Page, sel: string): Promise<[number, number, string]> {
  return await page.$eval(sel, (el) => {
    const t = el as HTMLTextAreaElement;
    return [t.selectionStart, t.selectionEnd, t.value.slice(t.selectionStart, t.selectionEnd)] as [
      number,
      number,
      string,
    ];
  });
}

/** Selects `length` characters starting `from` the text's start, with Home and Shift+→ as a person would. */
async function select(page: Page, sel: string, from: number, length: number) {
  await page.click(sel);
  await page.keyboard.press("Control+Home");
  for (let i = 0; i < from; i++) await page.keyboard.press("ArrowRight");
  for (let i = 0; i < length; i++) await page.keyboard.press("Shift+ArrowRight");
}

Deno.test("Ctrl+↑/↓ emphasis on a selection, at 1400 px and at 400 px", browserTest, async () => {
  await withBrowser(async ({ open }) => {
    for (const width of [1400, 400]) {
      const page = await open(width, 900);
      for (const box of ["#txt2img_prompt", "#txt2img_neg_prompt", "#img2img_prompt"]) {
        if (box.startsWith("#img2img")) await page.click("#tab_img2img");
        await typeInto(page, box, PROMPT);
        // "rocky coast": two words at the end of the first line of the box at 400 px.
        const at = PROMPT.indexOf("rocky coast");
        await select(page, box, at, "rocky coast".length);
        assertEquals((await selection(page, box))[2], "rocky coast");
        await page.keyboard.press("Control+ArrowUp");
        await page.keyboard.press("Control+ArrowUp");
        await waitValue(page, box, PROMPT.replace("rocky coast", "(rocky coast:1.2)"));
        assertEquals(await selection(page, box), [at + 1, at + 12, "rocky coast"], `${box} at ${width}`);
        await page.keyboard.press("Control+ArrowDown");
        await waitValue(page, box, PROMPT.replace("rocky coast", "(rocky coast:1.1)"));
        await page.keyboard.press("Control+ArrowDown");
        await waitValue(page, box, PROMPT);
        assertEquals((await selection(page, box))[2], "rocky coast", "back to weight 1: brackets gone");
        // The word at the cursor on the wrapped second line at 400 px, lowered.
        await select(page, box, PROMPT.indexOf("canvas") + 2, 0);
        await page.keyboard.press("Control+ArrowDown");
        await waitValue(page, box, PROMPT.replace("canvas", "(canvas:0.9)"));
      }
      await page.click("#tab_txt2img");
      await shot(page, `webui-emphasis-${width}`);
    }
  });
});
