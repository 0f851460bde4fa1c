// Builds the SDXL UNet benchmark's ONNX graph (once, before `deno task bench sdxl`) from a UNet in the LDM key
// layout, with this project's single-file importer (lib/onnx/nets/unet.ts): the weights stream from the file
// into model.onnx_data one tensor at a time, as float32 (what optimum exports and diffusers computes in), so the
// 2.6 B-parameter UNet never sits in memory here.
// Usage: sdxl_unet_build.ts UNET.safetensors CONFIG.json OUT_DIR → OUT_DIR/unet/{model.onnx, model.onnx_data}
import { join } from "node:path";
import { Checkpoint } from "../lib/models/single_file/checkpoint.ts";
import { UNET_PREFIX } from "../lib/models/single_file/detect.ts";
import { Net } from "../lib/onnx/nets/layers.ts";
import { writeNet } from "../lib/onnx/nets/model_file.ts";
import { buildUnet } from "../lib/onnx/nets/unet.ts";

const [file, configPath, out] = Deno.args;
if (!out) {
  console.error("usage: sdxl_unet_build.ts UNET.safetensors CONFIG.json OUT_DIR");
  Deno.exit(2);
}
const config = JSON.parse(await Deno.readTextFile(configPath));
const ckpt = Checkpoint.open(file);
try {
  const source = { info: (k: string) => ckpt.tensors.get(k), read: (k: string) => ckpt.read(k) };
  const net = new Net("unet", source, false);
  // diffusers' SDXL config names head counts attention_head_dim; each head is block_out_channels[0] / it wide.
  const heads = Array.isArray(config.attention_head_dim)
    ? { width: config.block_out_channels[0] / config.attention_head_dim[0] }
    : { count: config.attention_head_dim };
  const timeDim = config.addition_time_embed_dim;
  const built = buildUnet(net, {
    prefix: UNET_PREFIX,
    heads,
    groups: config.norm_num_groups ?? 32,
    eps: config.norm_eps ?? 1e-5,
    addition: { textEmbeds: config.projection_class_embeddings_input_dim - 6 * timeDim, timeDim },
  });
  const dir = join(out, "unet");
  let last = 0;
  await writeNet(net, dir, built.inputs, built.outputs, (bytes) => {
    if (bytes - last > 1e9) console.error(`  ${(bytes / 1e9).toFixed(1)} GB written`);
    last = bytes - last > 1e9 ? bytes : last;
  });
  await Deno.copyFile(configPath, join(dir, "config.json"));
  console.log(join(dir, "model.onnx"));
} finally {
  ckpt.close();
}
