// The embedding tab: images uploaded from the browser (files, or a whole folder) as well as a server folder;
// each skipped file listed with its reason; a quality report with each image's cosine to the mean; a new
// attempt clears the last outcome; the new embedding is in every dropdown at once.
import { Buffer } from "node:buffer";
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { FIXTURES } from "../fixtures.ts";
import { browserTest, shot, typeInto, withBrowser } from "./browser.ts";

const IMAGES = ["rgb.png", "rgb.jpg", "palette.png", "gray.png", "rgba.png"];

Deno.test(
  "embedding tab: uploads with skipped reasons and a quality report; folder upload; server path",
  browserTest,
  async () => {
    const folder = await Deno.makeTempDir({ prefix: "webui-upload-" });
    try {
      await Deno.mkdir(join(folder, "set", "more"), { recursive: true });
      for (const f of IMAGES.slice(0, 3)) {
        await Deno.copyFile(
          join(FIXTURES, "images", f),
          join(folder, "set", f),
        );
      }
      await Deno.copyFile(join(FIXTURES, "images", "gray.png"), join(folder, "set", "more", "gray.png"));
      await withBrowser(async ({ open }) => {
        const page = await open(1400, 1000);
        await page.click("#tab_aesthetic-embedding");
        await typeInto(page, "#ae_name", "uploaded");
        const truncated = (await Deno.readFile(join(FIXTURES, "images", "rgb.png"))).slice(0, 100);
        const image = async (f: string) => ({
          name: f,
          mimeType: f.endsWith(".jpg") ? "image/jpeg" : "image/png",
          buffer: Buffer.from(await Deno.readFile(join(FIXTURES, "images", f))),
        });
        await page.setInputFiles("#ae_files", [
          ...await Promise.all(IMAGES.map(image)),
          { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not an image") },
          { name: "broken.png", mimeType: "image/png", buffer: Buffer.from(truncated) },
        ]);
        assertEquals(await page.textContent("#ae_file_count"), "7 files chosen");
        await page.click("#ae_create");
        await page.waitForSelector("#ae_result", { timeout: 60_000 });
        ok((await page.textContent("#ae_result"))!.startsWith("Created uploaded from 5 images, 2 skipped"));
        const skipped = await page.locator("#ae_skipped li").allTextContents();
        assertEquals(skipped.length, 2);
        ok(skipped.includes("notes.txt: not an image file (by its extension)"), skipped.join(" | "));
        ok(skipped.some((s) => s.startsWith("broken.png: ")), skipped.join(" | "));
        const rows = await page.locator("#ae_quality tbody tr").allTextContents();
        assertEquals(rows.length, 5);
        for (const f of IMAGES) ok(rows.some((r) => r.startsWith(f)), `${f} in the report`);
        ok((await page.textContent("#ae_quality summary"))!.startsWith("Is this set coherent? Mean cosine"));
        await shot(page, "webui-embedding-report-1400", true);
        // It is in every dropdown at once.
        await page.waitForFunction(() =>
          Array.from(document.querySelectorAll("#img2img_aesthetic_embedding option")).some((o) =>
            o.textContent === "uploaded"
          )
        );

        // A folder upload names files by their path inside the folder.
        await typeInto(page, "#ae_name", "from-folder");
        await page.setInputFiles("#ae_folder", join(folder, "set"));
        await page.click("#ae_create");
        await page.waitForSelector("#ae_result", { timeout: 60_000 });
        ok((await page.textContent("#ae_result"))!.startsWith("Created from-folder from 4 images"));
        const files = await page.locator("#ae_quality tbody code").allTextContents();
        ok(files.includes("set/more/gray.png"), files.join(" | "));

        // A server folder that does not exist: the error replaces the last success.
        await page.click("#ae_source_server");
        await typeInto(page, "#ae_name", "nothing");
        await typeInto(page, "#ae_source", join(folder, "missing"));
        await page.click("#ae_create");
        await page.waitForSelector("#ae_error");
        assertEquals(await page.locator("#ae_result").count(), 0, "no old success beside the error");
        // Without --api-auth the server says nothing about which of its paths exist.
        ok((await page.textContent("#ae_error"))!.includes("the source folder cannot be used"));

        const narrow = await open(400, 900);
        await narrow.click("#tab_aesthetic-embedding");
        await shot(narrow, "webui-embedding-upload-400", true);
      });
    } finally {
      await Deno.remove(folder, { recursive: true });
    }
  },
);
