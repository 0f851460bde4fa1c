// The per-file download line.
import { deepStrictEqual as assertEquals } from "node:assert";
import { formatBytes, formatTransfer } from "../../../lib/models/transfer_bar.ts";

Deno.test("formatBytes and formatTransfer", () => {
  const cases: [number, string][] = [[0, "0 B"], [1023, "1023 B"], [1536, "1.5 KiB"], [
    3.5 * 2 ** 30,
    "3.5 GiB",
  ]];
  for (const [n, s] of cases) assertEquals(formatBytes(n), s, `${n}: ${formatBytes(n)}`);
  const line = formatTransfer({ file: "unet/model.onnx", done: 512, total: 1024, bytesPerSecond: 2048 }, 10);
  assertEquals(line, "unet/model.onnx [#####-----] 512 B/1.0 KiB 2.0 KiB/s");
});
