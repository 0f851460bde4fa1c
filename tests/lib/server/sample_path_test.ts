// Always-save paths follow A1111's layout and numbering.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { nextSamplePath } from "../../../lib/server/sample_path.ts";

Deno.test("samples go to <mode>-images/<date>/<NNNNN>-<seed>.png, numbered after the folder's highest", async () => {
  const root = await Deno.makeTempDir();
  try {
    const now = new Date(2026, 0, 5, 12);
    const first = await nextSamplePath(root, "txt2img", 42, now);
    assertEquals(first, join(root, "txt2img-images", "2026-01-05", "00000-42.png"));
    await Deno.writeFile(first, new Uint8Array());
    await Deno.writeFile(join(root, "txt2img-images", "2026-01-05", "00007-1.png"), new Uint8Array());
    assertEquals(
      await nextSamplePath(root, "txt2img", 9, now),
      join(root, "txt2img-images", "2026-01-05", "00008-9.png"),
    );
    assertEquals(
      await nextSamplePath(root, "img2img", 9, now),
      join(root, "img2img-images", "2026-01-05", "00000-9.png"),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
