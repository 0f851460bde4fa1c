import { deepStrictEqual as assertEquals, rejects } from "node:assert";
import { join, relative } from "node:path";
import { listImageFiles } from "../../../lib/embed/list_images.ts";
import { hostileEntries } from "../../hostile_files.ts";

Deno.test("listImageFiles walks folders recursively, sorted, by extension, skipping hidden entries", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "b", "c"), { recursive: true });
    await Deno.mkdir(join(dir, ".thumbs"));
    for (
      const f of [
        "z.JPG",
        "a.png",
        "b/c/d.webp",
        "b/e.gif",
        "notes.txt",
        ".hidden.jpg",
        ".thumbs/t.jpg",
        "b/x.jpeg",
      ]
    ) {
      await Deno.writeFile(join(dir, f), new Uint8Array(0));
    }
    const found = (await listImageFiles(dir)).map((p) => relative(dir, p));
    assertEquals(found, ["a.png", "b/c/d.webp", "b/e.gif", "b/x.jpeg", "z.JPG"]);
    // Paths come out as join(folder, relative path) would write them, however the folder is spelled.
    const joined = found.map((f) => join(dir, f));
    assertEquals(await listImageFiles(dir + "/"), joined);
    assertEquals(await listImageFiles(join(dir, "b", "..")), joined);
    const rel = relative(Deno.cwd(), dir);
    assertEquals(await listImageFiles(rel), found.map((f) => join(rel, f)));
    await rejects(listImageFiles(join(dir, "a.png")), /is not a folder/);
    await rejects(listImageFiles(join(dir, "missing")), /cannot open the image folder/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("listImageFiles lists FIFOs and device links (for the reader to skip with a reason), not folder links", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = await hostileEntries(dir, ".jpg");
    assertEquals(await listImageFiles(dir), [p.fifo, p.zero]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
