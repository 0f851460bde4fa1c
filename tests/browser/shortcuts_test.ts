// A1111's keyboard and viewing habits: Ctrl+Enter generates (committing a number still being typed), Ctrl+↑/↓
// edits emphasis, the token counter reads "n/75", a click on the image opens the full-size viewer, icons are
// SVG (no emoji font needed), and "always save" writes A1111's outputs/txt2img-images/<date>/00000-<seed>.png.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { browserTest, shot, typeInto, typeNumber, waitValue, withBrowser } from "./browser.ts";

Deno.test(
  "shortcuts, token counter, lightbox, SVG icons and A1111's output layout",
  browserTest,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "webui-shortcuts-" });
    try {
      await withBrowser(async ({ open }) => {
        const page = await open();
        await page.click("#tab_settings");
        await page.check("#setting_samples_save");
        await page.click("#settings_submit");
        await page.waitForSelector("#settings_result");
        await page.click("#tab_txt2img");

        // Ctrl+↑ on the word at the cursor, twice; Ctrl+↓ once.
        await typeInto(page, "#txt2img_prompt", "a lighthouse at dusk");
        await page.keyboard.press("Home");
        for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowRight");
        await page.keyboard.press("Control+ArrowUp");
        await page.keyboard.press("Control+ArrowUp");
        await waitValue(page, "#txt2img_prompt", "a (lighthouse:1.2) at dusk");
        await page.keyboard.press("Control+ArrowDown");
        await waitValue(page, "#txt2img_prompt", "a (lighthouse:1.1) at dusk");
        await page.waitForFunction(() =>
          document.querySelector("#txt2img_prompt_token_counter")?.textContent === "4/75"
        );
        // Emphasis syntax is not counted; a prompt past 75 tokens counts against two chunks.
        await typeInto(page, "#txt2img_neg_prompt", Array(80).fill("red").join(" "));
        await page.waitForFunction(() =>
          document.querySelector("#txt2img_neg_prompt_token_counter")?.textContent === "80/150"
        );
        await typeInto(page, "#txt2img_neg_prompt", "");

        // Ctrl+Enter while a number is still being typed: the number counts.
        await typeNumber(page, "#txt2img_width", "64");
        await typeNumber(page, "#txt2img_height", "64");
        await typeNumber(page, "#txt2img_seed", "31");
        await typeInto(page, "#txt2img_steps", "2");
        await page.keyboard.press("Control+Enter");
        await page.waitForSelector("#txt2img_gallery img.main", { timeout: 60_000 });
        const info = (await page.textContent("#txt2img_infotext"))!;
        ok(info.startsWith("a (lighthouse:1.1) at dusk\nSteps: 2,"), info);

        // The full-size viewer opens on a click and closes with Escape.
        await page.click("#txt2img_gallery img.main");
        await page.waitForSelector("#lightbox img");
        await shot(page, "webui-lightbox");
        await page.keyboard.press("Escape");
        assertEquals(await page.locator("#lightbox").count(), 0);

        // Icons are drawn, not emoji.
        for (
          const id of ["#txt2img_random_seed", "#txt2img_reuse_seed", "#txt2img_aesthetic_embedding_refresh"]
        ) {
          assertEquals(await page.locator(`${id} svg`).count(), 1, id);
          assertEquals((await page.textContent(id))!.trim(), "", `${id} has no emoji`);
        }

        // Always-save wrote A1111's layout.
        const days = join(root, "outputs", "txt2img-images");
        const [day] = [...Deno.readDirSync(days)].map((d) => d.name);
        ok(/^\d{4}-\d{2}-\d{2}$/.test(day), day);
        assertEquals([...Deno.readDirSync(join(days, day))].map((f) => f.name), ["00000-31.png"]);
      }, { root });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
