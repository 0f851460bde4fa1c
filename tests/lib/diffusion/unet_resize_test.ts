// The up-sampling rewrite: a Resize with a constant factor of 2 takes the spatial size of the skip connection
// it is concatenated with, so odd latent sides work; at even sides nothing changes. The whole-pipeline parity
// at 72×40 is in pipeline_test.ts (tests/fixtures/fx_noise.py).
import { deepStrictEqual as assertEquals, rejects } from "node:assert";
import { join } from "node:path";
import { openUnet, sizeUpsamplingToSkips } from "../../../lib/diffusion/unet_resize.ts";
import { DataType, decodeModel, encodeModel, type ModelProto } from "../../../lib/onnx/proto.ts";
import { openSession, Tensor } from "../../../lib/onnx/session.ts";
import { makeTensor } from "../../../lib/onnx/tensor_data.ts";
import { FIXTURES, type Manifest, maxAbsDiff, MODELS, readRef } from "../../fixtures.ts";

const rngRefs: Manifest = JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "rng", "manifest.json")));

/** x (1×2×h×w) → Resize ×2 (nearest) → Relu → Concat(axis 1) with skip (1×3×H×W); opset as given. */
function upBlock(opset: number, concat = true): ModelProto {
  const scales = makeTensor("scales", DataType.FLOAT, [4], Float32Array.of(1, 1, 2, 2));
  const roi = makeTensor("roi", DataType.FLOAT, [0], new Float32Array(0));
  // What torch.onnx writes for F.interpolate(scale_factor=2, mode="nearest").
  const text = (name: string, v: string) => ({ name, type: 3, s: new TextEncoder().encode(v) });
  const attrs = [
    text("mode", "nearest"),
    text("coordinate_transformation_mode", "asymmetric"),
    text("nearest_mode", "floor"),
  ];
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: opset }],
    graph: {
      name: "up",
      node: [
        {
          opType: "Resize",
          input: ["x", "roi", "scales"],
          output: ["up"],
          name: "resize",
          attribute: attrs,
        },
        { opType: "Relu", input: ["up"], output: ["act"], name: "relu" },
        ...(concat
          ? [{
            opType: "Concat",
            input: ["act", "skip"],
            output: ["y"],
            name: "cat",
            attribute: [{ name: "axis", type: 2, i: 1 }],
          }]
          : [{ opType: "Add", input: ["act", "skip"], output: ["y"], name: "add" }]),
      ],
      initializer: [scales, roi],
      input: [{ name: "x" }, { name: "skip" }].map(({ name }) => ({
        name,
        type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: "b" }, {}, {}, {}] } } },
      })),
      output: [{ name: "y" }],
    },
  };
}

async function run(model: ModelProto, x: [number, number], skip: [number, number], skipChannels = 3) {
  const s = await openSession(encodeModel(model), { threads: 1 });
  const n = (c: number, [h, w]: [number, number]) => new Float32Array(c * h * w).map((_, i) => i % 7);
  const out = await s.run({
    x: new Tensor("float32", n(2, x), [1, 2, ...x]),
    skip: new Tensor("float32", n(skipChannels, skip), [1, skipChannels, ...skip]),
  });
  await s.release();
  return out.y;
}

for (const opset of [11, 13, 18]) {
  Deno.test(`opset ${opset}: the Resize takes the skip's size, so 3×5 → 5×9 concatenates`, async () => {
    const before = upBlock(opset);
    await rejects(run(before, [3, 5], [5, 9]), /Concat|dimension|shape/i);
    const r = sizeUpsamplingToSkips(before);
    assertEquals([r.resized, r.unmatched], [["resize"], []]);
    const y = await run(r.model, [3, 5], [5, 9]);
    assertEquals(y.dims, [1, 5, 5, 9]);
    // Nearest, asymmetric, floor (torch's nearest): output cell (i, j) reads input cell (⌊i·3/5⌋, ⌊j·5/9⌋).
    const data = y.data as Float32Array;
    const expectRow = (i: number, j: number) => ((Math.floor(i * 3 / 5) * 5 + Math.floor(j * 5 / 9)) % 7);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 9; j++) assertEquals(data[i * 9 + j], expectRow(i, j));
    // At even sizes the rewritten graph computes what the original did.
    assertEquals((await run(r.model, [4, 6], [8, 12])).data, (await run(before, [4, 6], [8, 12])).data);
  });
}

Deno.test("a Resize not followed by a channel Concat is left alone and reported", () => {
  const r = sizeUpsamplingToSkips(upBlock(18, false));
  assertEquals([r.resized, r.unmatched], [[], ["resize"]]);
});

Deno.test("openUnet keeps a model's external weights: the rewritten bytes read them from its folder", async () => {
  // The up block with the skip scaled by a weight kept in weights.bin, as exports over 2 GB keep theirs.
  const base = upBlock(18);
  const cat = base.graph.node.pop()!;
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeFileSync(join(dir, "weights.bin"), new Uint8Array(Float32Array.of(3).buffer));
    const w = {
      name: "w",
      dims: [1],
      dataType: DataType.FLOAT,
      dataLocation: 1,
      externalData: [{ key: "location", value: "weights.bin" }, { key: "offset", value: "0" }, {
        key: "length",
        value: "4",
      }],
    };
    const model: ModelProto = {
      ...base,
      graph: {
        ...base.graph,
        node: [
          { opType: "Mul", input: ["skip", "w"], output: ["scaled"], name: "scale" },
          ...base.graph.node,
          { ...cat, input: ["act", "scaled"] },
        ],
        initializer: [...base.graph.initializer, w],
      },
    };
    const path = join(dir, "model.onnx");
    Deno.writeFileSync(path, encodeModel(model));
    const { session, anySize } = await openUnet(path, { threads: 1 });
    assertEquals(anySize, true);
    const y = await session.run({
      x: new Tensor("float32", new Float32Array(2 * 3 * 5), [1, 2, 3, 5]),
      skip: new Tensor("float32", new Float32Array(3 * 5 * 9).fill(1), [1, 3, 5, 9]),
    });
    await session.release();
    assertEquals(y.y.dims, [1, 5, 5, 9]);
    assertEquals((y.y.data as Float32Array).slice(2 * 45), new Float32Array(3 * 45).fill(3));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

for (const name of ["tiny-sd1", "tiny-sd2"]) {
  Deno.test(`${name}: every up-sampler of the optimum export is sized by its skip connection`, async () => {
    const path = join(MODELS, name, "unet", "model.onnx");
    const r = sizeUpsamplingToSkips(decodeModel(Deno.readFileSync(path)));
    assertEquals([r.resized.length, r.unmatched], [1, []]);
    const { session, anySize } = await openUnet(path, { threads: 1 });
    assertEquals(anySize, true);
    await session.release();
  });
}

Deno.test("SD 1.5's layout (three up-samplers) at 768×432 equals diffusers", async () => {
  // tests/fixtures/fx_noise.py: SD 1.5's blocks with a few channels, traced at 512×512 as optimum does, run by
  // diffusers on 96×54 latents (54 → 27 → 14 → 7 → 14 → 27 → 54: 14 → 27 needs the skip's size).
  const e = rngRefs.sd15_layout;
  const path = join(FIXTURES, "refs", e.model);
  const feeds = {
    sample: new Tensor("float32", readRef(e.sample), e.sample.shape),
    timestep: new Tensor("float32", Float32Array.of(e.timestep), []),
    encoder_hidden_states: new Tensor(
      "float32",
      readRef(e.encoder_hidden_states),
      e.encoder_hidden_states.shape,
    ),
  };
  const r = sizeUpsamplingToSkips(decodeModel(Deno.readFileSync(path)));
  assertEquals([r.resized.length, r.unmatched], [3, []]);
  const { session, anySize } = await openUnet(path, { threads: 1 });
  assertEquals(anySize, true);
  const out = (await session.run(feeds)).out_sample;
  await session.release();
  assertEquals(out.dims, e.out_sample.shape);
  const d = maxAbsDiff(out.data as Float32Array, readRef(e.out_sample));
  if (!(d <= 1e-4)) throw new Error(`out_sample differs by ${d}`);
  console.log(`  768×432: max abs difference ${d.toExponential(2)}`);
});

// The real-size SD 1.5 UNet of the benchmarks (`deno task fixtures --bench DIR --bench-parts sd15`, optimum's
// export with 3.4 GB of external data), when it has been built: only its graph file is read.
const benchUnet = join(
  Deno.env.get("BENCH_DIR") ?? join(FIXTURES, "..", "..", ".bench-cache"),
  "sd15",
  "unet",
);
const hasBench = (() => {
  try {
    return Deno.statSync(join(benchUnet, "model.onnx")).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "real-size SD 1.5 export (bench weights): its three up-samplers are sized by their skips",
  ignore: !hasBench,
  fn() {
    const model = decodeModel(Deno.readFileSync(join(benchUnet, "model.onnx")));
    const r = sizeUpsamplingToSkips(model);
    assertEquals(r.unmatched, []);
    assertEquals(r.resized, [0, 1, 2].map((i) => `/up_blocks.${i}/upsamplers.0/Resize`));
  },
});
