// Reading tensors on demand from single files: strided .ckpt views gathered as torch would, non-tensor entries
// skipped, and a safetensors index checked against the file's size.
import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { join } from "node:path";
import { decodeFloats } from "../../../../lib/io/float_codec.ts";
import { writeSafetensors } from "../../../../lib/io/safetensors.ts";
import { Checkpoint } from "../../../../lib/models/single_file/checkpoint.ts";
import { FIXTURES } from "../../../fixtures.ts";

const manifest = JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "single_file", "manifest.json")));

Deno.test("Checkpoint: .ckpt views (a transpose, a row slice at an offset) read as contiguous values", () => {
  const ckpt = Checkpoint.open(join(FIXTURES, "single_file", "views.ckpt"));
  try {
    assertEquals([...ckpt.tensors.keys()].sort(), ["rows", "transposed"]); // "step" is not a tensor
    assertEquals(ckpt.tensors.get("transposed")!.shape, [4, 3]);
    assertEquals([...decodeFloats(ckpt.read("transposed"), "float32")], manifest.views.transposed);
    assertEquals(ckpt.tensors.get("rows")!.dtype, "float16");
    assertEquals([...decodeFloats(ckpt.read("rows"), "float16")], manifest.views.rows);
  } finally {
    ckpt.close();
  }
});

Deno.test("Checkpoint: safetensors tensors by offset; a file cut short is named as truncated", async () => {
  const bytes = writeSafetensors([
    { name: "a", data: Float32Array.of(1, 2, 3), shape: [3], dtype: "float32" },
    { name: "b", data: Float32Array.of(4, 5), shape: [1, 2], dtype: "float16" },
  ]);
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await Deno.writeFile(path, bytes);
    const ckpt = Checkpoint.open(path);
    assertEquals([...decodeFloats(ckpt.read("b"), "float16")], [4, 5]);
    assertEquals([...decodeFloats(ckpt.read("a"), "float32")], [1, 2, 3]);
    ckpt.close();
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 2));
    throws(
      () => Checkpoint.open(path),
      /\.safetensors is truncated: it has \d+ bytes but its tensors need \d+/,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("Checkpoint: a .ckpt cut short is named as truncated", async () => {
  const bytes = await Deno.readFile(join(FIXTURES, "single_file", "tiny-sd1.ckpt"));
  const path = await Deno.makeTempFile({ suffix: ".ckpt" });
  try {
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 5000));
    throws(() => Checkpoint.open(path), /\.ckpt is truncated or not a zip archive/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("Checkpoint: a Lightning training .ckpt (callbacks, optimizer states, numpy scalars) gives its state_dict", () => {
  // tiny-sd1.ckpt is saved as sd-v1-4.ckpt is: only the state_dict's tensors are indexed (not the optimizer's).
  const ckpt = Checkpoint.open(join(FIXTURES, "single_file", "tiny-sd1.ckpt"));
  const st = Checkpoint.open(join(FIXTURES, "single_file", "tiny-sd1.safetensors"));
  try {
    assertEquals([...ckpt.tensors.keys()].sort(), [...st.tensors.keys()].sort());
    const key = "model.diffusion_model.out.2.weight";
    assertEquals(ckpt.read(key), st.read(key));
  } finally {
    ckpt.close();
    st.close();
  }
});

Deno.test("Checkpoint: a Lightning .ckpt that pickles a call of os.system is refused, naming it", () => {
  throws(
    () => Checkpoint.open(join(FIXTURES, "single_file", "hostile.ckpt")),
    (e: Error) =>
      e.message ===
        "hostile.ckpt has a pickle that was refused (refusing global posix.system: only tensor data may be " +
          "loaded); only tensors are loaded and nothing in the file was run",
  );
});
