// readRegularFile: only regular files below the cap, checked before opening (a FIFO would block the open) and
// again while reading (a file may be longer than its size said).
import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert";
import { join } from "node:path";
import { InputLimitError } from "../../../lib/io/input_error.ts";
import { NotRegularFileError, readRegularFile } from "../../../lib/io/read_capped.ts";
import { hostileEntries, within } from "../../hostile_files.ts";

Deno.test("readRegularFile reads regular files and links to them whole, up to the cap", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
    await Deno.writeFile(join(dir, "f"), bytes);
    await Deno.symlink(join(dir, "f"), join(dir, "link"));
    for (const p of ["f", "link"]) {
      const got = await readRegularFile(join(dir, p), 5000);
      assertEquals(got, bytes);
      ok(got.byteOffset === 0 && got.buffer.byteLength === 5000, "one whole buffer, releasable");
    }
    await Deno.writeFile(join(dir, "empty"), new Uint8Array(0));
    assertEquals((await readRegularFile(join(dir, "empty"), 10)).length, 0);
    await rejects(readRegularFile(join(dir, "f"), 4999), (e) => {
      ok(e instanceof InputLimitError, String(e));
      ok((e as Error).message.includes("is 5000 bytes, over the limit of 4999"), (e as Error).message);
      return true;
    });
    await rejects(readRegularFile(join(dir, "missing"), 10), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readRegularFile refuses FIFOs, devices and folders without opening them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = await hostileEntries(dir, ".bin");
    const cases: [string, RegExp][] = [
      [p.fifo, /is a FIFO; only regular files are read/],
      [p.zero, /is a device; only regular files are read/],
      [p.folder, /is a folder; only regular files are read/],
      ["/dev/zero", /is a device/],
    ];
    for (const [path, message] of cases) {
      await within(
        5000,
        path,
        rejects(readRegularFile(path, 1 << 20, path), (e) => {
          ok(e instanceof NotRegularFileError, String(e));
          ok(message.test((e as Error).message), (e as Error).message);
          return true;
        }),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readRegularFile stops one byte past the cap when a file holds more than its size said", async () => {
  // /proc files report size 0 but have content: the read, not the size, enforces the cap.
  await rejects(readRegularFile("/proc/self/maps", 16), InputLimitError);
  const maps = await readRegularFile("/proc/self/maps", 1 << 24);
  ok(maps.length > 16, `read ${maps.length} bytes`);
});
