// diffusers' AutoencoderKL halves as ONNX graphs read from the LDM layout (`first_stage_model.encoder.down.N.
// block.M…`, `decoder.up.N…` with up.0 applied last): the encoder to latent_parameters (mean and log-variance
// after quant_conv) and the decoder from latent_sample (through post_quant_conv), as optimum exports them.
import { DataType } from "../proto.ts";
import type { Net } from "./layers.ts";
import type { GraphIO } from "./model_file.ts";

export interface VaeConfig {
  prefix: string;
  groups: number;
}

const EPS = 1e-6;
const F = DataType.FLOAT;

function resBlock(net: Net, x: string, k: string, groups: number): string {
  let h = net.conv(net.silu(net.groupNorm(x, `${k}.norm1`, groups, EPS)), `${k}.conv1`);
  h = net.conv(net.silu(net.groupNorm(h, `${k}.norm2`, groups, EPS)), `${k}.conv2`);
  const skip = net.w.has(`${k}.nin_shortcut.weight`) ? net.conv(x, `${k}.nin_shortcut`) : x;
  return net.op("Add", [skip, h]);
}

/** The single-head self-attention of the VAE's middle block; q/k/v/proj_out are 1×1 convolutions in LDM. */
function attnBlock(net: Net, x: string, k: string, groups: number): string {
  const ch = net.w.shape(`${k}.q.weight`)[0];
  const tokens = net.op("Transpose", [
    net.op("Reshape", [net.groupNorm(x, `${k}.norm`, groups, EPS), net.ints([0, ch, -1])]),
  ], { perm: [0, 2, 1] });
  const [q, key, v] = ["q", "k", "v"].map((r) => net.linear(tokens, `${k}.${r}`));
  const out = net.linear(net.attention(q, key, v, 1, ch), `${k}.proj_out`);
  const back = net.op("Reshape", [net.op("Transpose", [out], { perm: [0, 2, 1] }), net.op("Shape", [x])]);
  return net.op("Add", [back, x]);
}

function middle(net: Net, h: string, k: string, groups: number): string {
  h = resBlock(net, h, `${k}.mid.block_1`, groups);
  if (net.w.has(`${k}.mid.attn_1.q.weight`)) h = attnBlock(net, h, `${k}.mid.attn_1`, groups);
  return resBlock(net, h, `${k}.mid.block_2`, groups);
}

function count(net: Net, at: (i: number) => string): number {
  let n = 0;
  while (net.w.has(at(n))) n++;
  return n;
}

export function buildVaeEncoder(
  net: Net,
  c: VaeConfig,
): { inputs: GraphIO[]; outputs: { io: GraphIO; value: string }[] } {
  const k = `${c.prefix}encoder`;
  let h = net.conv("sample", `${k}.conv_in`);
  const levels = count(net, (i) => `${k}.down.${i}.block.0.conv1.weight`);
  for (let i = 0; i < levels; i++) {
    const blocks = count(net, (j) => `${k}.down.${i}.block.${j}.conv1.weight`);
    for (let j = 0; j < blocks; j++) h = resBlock(net, h, `${k}.down.${i}.block.${j}`, c.groups);
    if (net.w.has(`${k}.down.${i}.downsample.conv.weight`)) {
      // diffusers pads only bottom and right, then convolves with stride 2 and no padding.
      h = net.op("Pad", [h, net.ints([0, 0, 0, 0, 0, 0, 1, 1]), net.f(0)], { mode: "constant" });
      h = net.conv(h, `${k}.down.${i}.downsample.conv`, 2, 0);
    }
  }
  h = middle(net, h, k, c.groups);
  h = net.conv(net.silu(net.groupNorm(h, `${k}.norm_out`, c.groups, EPS)), `${k}.conv_out`);
  const moments = net.conv(h, `${c.prefix}quant_conv`);
  const out = net.w.shape(`${c.prefix}quant_conv.weight`)[0];
  return {
    inputs: [{ name: "sample", type: F, dims: ["batch_size", 3, "sample_height", "sample_width"] }],
    outputs: [{
      io: { name: "latent_parameters", type: F, dims: ["batch_size", out, "latent_height", "latent_width"] },
      value: moments,
    }],
  };
}

export function buildVaeDecoder(
  net: Net,
  c: VaeConfig,
): { inputs: GraphIO[]; outputs: { io: GraphIO; value: string }[] } {
  const k = `${c.prefix}decoder`;
  const latent = net.w.shape(`${c.prefix}post_quant_conv.weight`)[1];
  let h = net.conv(net.conv("latent_sample", `${c.prefix}post_quant_conv`), `${k}.conv_in`);
  h = middle(net, h, k, c.groups);
  const levels = count(net, (i) => `${k}.up.${i}.block.0.conv1.weight`);
  for (let i = levels - 1; i >= 0; i--) {
    const blocks = count(net, (j) => `${k}.up.${i}.block.${j}.conv1.weight`);
    for (let j = 0; j < blocks; j++) h = resBlock(net, h, `${k}.up.${i}.block.${j}`, c.groups);
    if (net.w.has(`${k}.up.${i}.upsample.conv.weight`)) {
      h = net.conv(net.upsample2x(h), `${k}.up.${i}.upsample.conv`);
    }
  }
  const out = net.conv(net.silu(net.groupNorm(h, `${k}.norm_out`, c.groups, EPS)), `${k}.conv_out`);
  return {
    inputs: [{
      name: "latent_sample",
      type: F,
      dims: ["batch_size", latent, "latent_height", "latent_width"],
    }],
    outputs: [{ io: { name: "sample", type: F, dims: ["batch_size", 3, "height", "width"] }, value: out }],
  };
}
