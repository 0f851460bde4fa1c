// diffusers' UNet2DConditionModel (SD 1.x/2.x) as an ONNX graph read from the original LDM layout
// (`model.diffusion_model.input_blocks.N.M…`). The block structure comes from the keys present: a ResBlock at
// `.0.in_layers`, a downsampling conv at `.0.op`, a spatial transformer at `.1.norm`, an upsampling conv at
// `.1.conv`/`.2.conv`; channel counts from the tensors' shapes. Inputs and outputs are optimum's (sample,
// timestep as a float32 scalar, encoder_hidden_states → out_sample).
import { DataType } from "../proto.ts";
import type { Net } from "./layers.ts";
import type { GraphIO } from "./model_file.ts";

export interface UnetConfig {
  prefix: string;
  /** SDXL's micro-conditioning: text_embeds (this wide) and six time_ids, each embedded `timeDim` wide. */
  addition?: { textEmbeds: number; timeDim: number };
  /** Heads per transformer: a fixed count (SD 1.x: 8) or a fixed head width (SD 2.x: 64 channels). */
  heads: { count: number } | { width: number };
  groups: number;
  eps: number;
}

const F = DataType.FLOAT;

export function buildUnet(
  net: Net,
  c: UnetConfig,
): { inputs: GraphIO[]; outputs: { io: GraphIO; value: string }[] } {
  const P = c.prefix;
  const has = (k: string) => net.w.has(P + k);
  const channelsOf = (k: string) => net.w.shape(P + k)[0];
  const inChannels = net.w.shape(`${P}input_blocks.0.0.weight`)[1];
  const outChannels = net.w.shape(`${P}out.2.weight`)[0];
  const base = net.w.shape(`${P}time_embed.0.weight`)[1];

  // Sinusoidal embedding of each value of a 1-D tensor (flip_sin_to_cos, shift 0), as diffusers'
  // get_timestep_embedding in float32: [n] → [n, width].
  const sinusoid = (values: string, width: number) => {
    const half = width / 2;
    const freqs = Array.from({ length: half }, (_, i) => {
      const exponent = Math.fround(Math.fround(-Math.log(10000) * i) / half);
      return Math.fround(Math.exp(exponent));
    });
    const args = net.op("Mul", [
      net.op("Unsqueeze", [values, net.ints([1])]),
      net.b.const(F, [1, half], freqs),
    ]);
    return net.op("Concat", [net.op("Cos", [args]), net.op("Sin", [args])], { axis: -1 });
  };
  const batch = net.op("Gather", [net.op("Shape", ["sample"]), net.b.scalar(DataType.INT64, 0)], { axis: 0 });
  const t = net.op("Expand", [
    net.op("Reshape", ["timestep", net.ints([-1])]),
    net.op("Unsqueeze", [batch, net.ints([0])]),
  ]);
  let temb = net.linear(net.silu(net.linear(sinusoid(t, base), `${P}time_embed.0`)), `${P}time_embed.2`);
  if (c.addition) {
    // SDXL: [text_embeds, sinusoid(time_ids) flattened] through label_emb, added to the time embedding.
    const times = sinusoid(net.op("Reshape", ["time_ids", net.ints([-1])]), c.addition.timeDim);
    const flat = net.op("Reshape", [times, net.ints([-1, 6 * c.addition.timeDim])]);
    const added = net.op("Concat", ["text_embeds", flat], { axis: -1 });
    temb = net.op("Add", [
      temb,
      net.linear(net.silu(net.linear(added, `${P}label_emb.0.0`)), `${P}label_emb.0.2`),
    ]);
  }
  const tembAct = net.silu(temb);
  const ctx = "encoder_hidden_states";

  const resBlock = (x: string, k: string) => {
    let h = net.conv(
      net.silu(net.groupNorm(x, `${P}${k}.in_layers.0`, c.groups, c.eps)),
      `${P}${k}.in_layers.2`,
    );
    const e = net.op("Unsqueeze", [net.linear(tembAct, `${P}${k}.emb_layers.1`), net.ints([2, 3])]);
    h = net.op("Add", [h, e]);
    h = net.conv(
      net.silu(net.groupNorm(h, `${P}${k}.out_layers.0`, c.groups, c.eps)),
      `${P}${k}.out_layers.3`,
    );
    const skip = has(`${k}.skip_connection.weight`) ? net.conv(x, `${P}${k}.skip_connection`) : x;
    return net.op("Add", [skip, h]);
  };

  const attention = (x: string, context: string, k: string, ch: number) => {
    const heads = "count" in c.heads ? c.heads.count : ch / c.heads.width;
    const q = net.linear(x, `${k}.to_q`),
      key = net.linear(context, `${k}.to_k`),
      v = net.linear(context, `${k}.to_v`);
    return net.linear(net.attention(q, key, v, heads, ch), `${k}.to_out.0`);
  };

  const transformer = (x: string, k: string) => {
    const ch = channelsOf(`${k}.norm.weight`);
    const linearProj = net.w.shape(`${P}${k}.proj_in.weight`).length === 2;
    let h = net.groupNorm(x, `${P}${k}.norm`, c.groups, 1e-6);
    h = linearProj
      ? net.linear(net.toTokens(h, ch), `${P}${k}.proj_in`)
      : net.toTokens(net.conv(h, `${P}${k}.proj_in`), ch);
    for (let j = 0; has(`${k}.transformer_blocks.${j}.norm1.weight`); j++) {
      const b = `${P}${k}.transformer_blocks.${j}`;
      const n1 = net.layerNorm(h, `${b}.norm1`, 1e-5);
      h = net.op("Add", [attention(n1, n1, `${b}.attn1`, ch), h]);
      h = net.op("Add", [attention(net.layerNorm(h, `${b}.norm2`, 1e-5), ctx, `${b}.attn2`, ch), h]);
      const proj = net.linear(net.layerNorm(h, `${b}.norm3`, 1e-5), `${b}.ff.net.0.proj`);
      const inner = net.w.shape(`${b}.ff.net.0.proj.weight`)[0] / 2;
      const [value, gate] = net.b.node("Split", [proj, net.ints([inner, inner])], 2, { axis: -1 });
      h = net.op("Add", [net.linear(net.op("Mul", [value, net.gelu(gate)]), `${b}.ff.net.2`), h]);
    }
    const out = linearProj
      ? net.fromTokens(net.linear(h, `${P}${k}.proj_out`), x)
      : net.conv(net.fromTokens(h, x), `${P}${k}.proj_out`);
    return net.op("Add", [out, x]);
  };

  let h = net.conv("sample", `${P}input_blocks.0.0`);
  const skips = [h];
  for (
    let i = 1;
    has(`input_blocks.${i}.0.op.weight`) || has(`input_blocks.${i}.0.in_layers.0.weight`);
    i++
  ) {
    if (has(`input_blocks.${i}.0.op.weight`)) h = net.conv(h, `${P}input_blocks.${i}.0.op`, 2, 1);
    else {
      h = resBlock(h, `input_blocks.${i}.0`);
      if (has(`input_blocks.${i}.1.norm.weight`)) h = transformer(h, `input_blocks.${i}.1`);
    }
    skips.push(h);
  }
  h = resBlock(h, "middle_block.0");
  if (has("middle_block.1.norm.weight")) h = transformer(h, "middle_block.1");
  h = resBlock(h, has("middle_block.2.in_layers.0.weight") ? "middle_block.2" : "middle_block.1");
  for (let i = 0; has(`output_blocks.${i}.0.in_layers.0.weight`); i++) {
    const skip = skips.pop();
    if (!skip) throw new Error(`output_blocks.${i} has no matching input block`);
    h = resBlock(net.op("Concat", [h, skip], { axis: 1 }), `output_blocks.${i}.0`);
    if (has(`output_blocks.${i}.1.norm.weight`)) h = transformer(h, `output_blocks.${i}.1`);
    for (const slot of [1, 2]) {
      if (has(`output_blocks.${i}.${slot}.conv.weight`)) {
        h = net.conv(net.upsample2x(h), `${P}output_blocks.${i}.${slot}.conv`);
      }
    }
  }
  const out = net.conv(net.silu(net.groupNorm(h, `${P}out.0`, c.groups, c.eps)), `${P}out.2`);
  const ctxWidth = net.w.shape(`${P}${firstCrossAttention(net, P)}`)[1];
  return {
    inputs: [
      { name: "sample", type: F, dims: ["batch_size", inChannels, "height", "width"] },
      { name: "timestep", type: F, dims: [] },
      { name: ctx, type: F, dims: ["batch_size", "sequence_length", ctxWidth] },
      ...(c.addition
        ? [
          { name: "text_embeds", type: F, dims: ["batch_size", c.addition.textEmbeds] },
          { name: "time_ids", type: F, dims: ["batch_size", 6] },
        ]
        : []),
    ],
    outputs: [{
      io: { name: "out_sample", type: F, dims: ["batch_size", outChannels, "height", "width"] },
      value: out,
    }],
  };
}

/** The key of the first cross-attention key projection (its input width is the conditioning width). */
export function firstCrossAttention(net: Net, prefix: string): string {
  for (const block of ["input_blocks", "middle_block", "output_blocks"]) {
    for (let i = 0; i < 16; i++) {
      const k = `${block}.${i}.1.transformer_blocks.0.attn2.to_k.weight`;
      if (net.w.has(prefix + k)) return k;
    }
  }
  throw new Error("the UNet has no cross-attention layer");
}
