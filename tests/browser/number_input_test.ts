// Number fields keep what is typed key by key and commit on Enter or leaving the field; refused values are
// marked and named with the field's label; a cleared Seed means -1; the server's refusals come back with the
// page's labels, never as a 500.
import { Buffer } from "node:buffer";
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { browserTest, shot, typeInto, typeNumber, waitValue, withBrowser } from "./browser.ts";

Deno.test(
  "number fields: typed text stays, commits on Tab/Enter, invalid values are marked",
  browserTest,
  async () => {
    await withBrowser(async ({ open }) => {
      const page = await open();
      const statuses: number[] = [];
      page.on("response", (r) => statuses.push(r.status()));
      await page.click("#txt2img_aesthetic_accordion summary");
      // Each value typed key by key reads back exactly as typed, before and after it is committed.
      const cases: [string, string][] = [
        ["#txt2img_cfg_scale", "7.5"],
        ["#txt2img_aesthetic_lr", "0.0005"],
        ["#txt2img_aesthetic_weight", "0.75"],
        ["#txt2img_seed", "-1"],
        ["#txt2img_seed", "4294967295"],
      ];
      for (const [sel, text] of cases) {
        await typeInto(page, sel, text);
        assertEquals(await page.inputValue(sel), text, `${sel} while typing`);
        await page.keyboard.press("Enter");
        assertEquals(await page.inputValue(sel), text, `${sel} after Enter`);
        await page.keyboard.press("Tab");
        // Given time to re-render, the committed value still reads as typed.
        await page.waitForTimeout(100);
        assertEquals(await page.inputValue(sel), text, `${sel} after leaving`);
      }
      // The slider beside CFG followed the committed value.
      await page.waitForFunction(() =>
        (document.querySelector("#txt2img_cfg_scale")!.parentElement!.querySelector(
          "input[type=range]",
        ) as HTMLInputElement)
          .value === "7.5"
      );

      // A cleared Seed is -1.
      await typeNumber(page, "#txt2img_seed", "");
      await waitValue(page, "#txt2img_seed", "-1");

      // Refused values stay as typed, marked, and Generate names them by label instead of sending them.
      await typeNumber(page, "#txt2img_width", "100");
      await typeNumber(page, "#txt2img_steps", "abc");
      assertEquals(await page.getAttribute("#txt2img_width", "aria-invalid"), "true");
      assertEquals(await page.inputValue("#txt2img_steps"), "abc");
      await page.click("#txt2img_generate");
      assertEquals(
        await page.textContent("#txt2img_error"),
        "Sampling steps: not a number; Width: a multiple of 8",
      );
      await shot(page, "webui-invalid-fields");
      // Fixing them clears the marks.
      await typeNumber(page, "#txt2img_width", "64");
      await typeNumber(page, "#txt2img_steps", "2");
      assertEquals(await page.locator("input[aria-invalid=true]").count(), 0);

      // CFG 7.5 and the aesthetic values typed above reach the job.
      await typeNumber(page, "#txt2img_height", "64");
      await page.selectOption("#txt2img_aesthetic_embedding", "tiny-demo");
      await typeNumber(page, "#txt2img_aesthetic_steps", "1");
      await page.click("#txt2img_generate");
      await page.waitForSelector("#txt2img_gallery img.main", { timeout: 60_000 });
      const info = (await page.textContent("#txt2img_infotext"))!;
      for (const f of ["CFG scale: 7.5", "Aesthetic LR: 0.0005", "Aesthetic weight: 0.75", "Size: 64x64"]) {
        ok(info.includes(f), `${f} in ${info}`);
      }

      // 800 images are over the server's --max-images: its refusal comes back under the field's label.
      const png = await page.locator("#txt2img_gallery img.main").evaluate((img) =>
        (img as HTMLImageElement).src.split(",")[1]
      );
      await page.click("#tab_img2img");
      await page.setInputFiles("#img2img_image", {
        name: "source.png",
        mimeType: "image/png",
        buffer: Buffer.from(png, "base64"),
      });
      await typeNumber(page, "#img2img_width", "64");
      await typeNumber(page, "#img2img_height", "64");
      await typeNumber(page, "#img2img_batch_count", "100");
      await typeNumber(page, "#img2img_batch_size", "8");
      await page.click("#img2img_generate");
      await page.waitForSelector("#img2img_error");
      const msg = (await page.textContent("#img2img_error"))!;
      ok(msg.startsWith("Batch count: ") && msg.includes("--max-images"), msg);
      ok(!msg.includes("body."), msg);
      ok(statuses.every((s) => s < 500), `no 5xx: ${statuses}`);
    });
  },
);
