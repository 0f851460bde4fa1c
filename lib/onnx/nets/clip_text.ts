// transformers' CLIPTextModel as an ONNX graph (input_ids → last_hidden_state, pooler_output), read from either
// text layout of a Stable Diffusion checkpoint: OpenAI CLIP under `cond_stage_model.transformer.` (SD 1.x) or
// OpenCLIP under `cond_stage_model.model.` (SD 2.x: fused q/k/v rows, GELU, and the last resblock left out,
// since SD 2.x conditions on the penultimate layer, as diffusers' conversion does). Initializers carry
// transformers' names, so the graph looks like an exported text encoder to the registry and to personalization.
import { DataType } from "../proto.ts";
import type { Net } from "./layers.ts";
import type { GraphIO } from "./model_file.ts";

export interface ClipTextConfig {
  layout: "clip" | "open_clip";
  /** Key prefix in the checkpoint, e.g. `cond_stage_model.transformer.` or `cond_stage_model.model.`. */
  prefix: string;
  hidden: number;
  heads: number;
  /** Transformer layers the graph runs. */
  layers: number;
  eps: number;
  act: "quick_gelu" | "gelu";
  eosTokenId: number;
  /** Also output hidden_states.0 … hidden_states.N (SDXL reads the penultimate layer). */
  hiddenStates?: boolean;
  /** OpenCLIP's text_projection ([hidden, width], multiplied as stored): output text_embeds, not pooler_output. */
  projection?: { key: string; width: number };
}

/** The checkpoint key of each weight, by transformers name, for the file's layout. */
function keys(c: ClipTextConfig) {
  const p = c.prefix;
  if (c.layout === "clip") {
    const t = `${p}text_model.`;
    return {
      token: `${t}embeddings.token_embedding.weight`,
      position: `${t}embeddings.position_embedding.weight`,
      final: `${t}final_layer_norm`,
      layer: (i: number) => {
        const l = `${t}encoder.layers.${i}.`;
        return {
          ln1: `${l}layer_norm1`,
          ln2: `${l}layer_norm2`,
          q: `${l}self_attn.q_proj`,
          k: `${l}self_attn.k_proj`,
          v: `${l}self_attn.v_proj`,
          out: `${l}self_attn.out_proj`,
          fc1: `${l}mlp.fc1`,
          fc2: `${l}mlp.fc2`,
          fused: undefined as string | undefined,
        };
      },
    };
  }
  return {
    token: `${p}token_embedding.weight`,
    position: `${p}positional_embedding`,
    final: `${p}ln_final`,
    layer: (i: number) => {
      const l = `${p}transformer.resblocks.${i}.`;
      return {
        ln1: `${l}ln_1`,
        ln2: `${l}ln_2`,
        q: "",
        k: "",
        v: "",
        out: `${l}attn.out_proj`,
        fc1: `${l}mlp.c_fc`,
        fc2: `${l}mlp.c_proj`,
        fused: `${l}attn.in_proj`,
      };
    },
  };
}

export function buildClipText(
  net: Net,
  c: ClipTextConfig,
): { inputs: GraphIO[]; outputs: { io: GraphIO; value: string }[] } {
  const k = keys(c);
  const C = c.hidden;
  const hf = "text_model.";
  const ids = "input_ids";
  const tokens = net.op("Gather", [
    net.w.take(k.token, { name: `${hf}embeddings.token_embedding.weight` }),
    ids,
  ]);
  const idsShape = net.op("Shape", [ids]);
  const seq = net.op("Gather", [idsShape, net.b.scalar(DataType.INT64, 1)], { axis: 0 });
  const positions = net.op("Range", [net.b.scalar(DataType.INT64, 0), seq, net.b.scalar(DataType.INT64, 1)]);
  const posTable = net.w.take(k.position, { name: `${hf}embeddings.position_embedding.weight` });
  let x = net.op("Add", [tokens, net.op("Gather", [posTable, positions])]);
  // The causal mask: the float32 minimum above the diagonal (column > row), as transformers adds it to the scores.
  const rows = net.op("Unsqueeze", [positions, net.ints([1])]);
  const cols = net.op("Unsqueeze", [positions, net.ints([0])]);
  const mask = net.op("Where", [net.op("Less", [rows, cols]), net.f(-3.4028234663852886e38), net.f(0)]);

  const states = [x];
  for (let i = 0; i < c.layers; i++) {
    const l = k.layer(i);
    const n = `${hf}encoder.layers.${i}.`;
    const h = net.layerNorm(x, l.ln1, c.eps, `${n}layer_norm1`);
    const proj = (role: "q" | "k" | "v", index: number) => {
      const name = `${n}self_attn.${role}_proj`;
      if (!l.fused) return net.linear(h, l[role], name);
      const rows: [number, number] = [index * C, (index + 1) * C];
      const w = net.w.take(`${l.fused}_weight`, { rows, transpose: true, name: `${name}.weight` });
      const b = net.w.take(`${l.fused}_bias`, { rows, name: `${name}.bias` });
      return net.op("Add", [b, net.op("MatMul", [h, w])]);
    };
    const attn = net.attention(proj("q", 0), proj("k", 1), proj("v", 2), c.heads, C, mask);
    x = net.op("Add", [x, net.linear(attn, l.out, `${n}self_attn.out_proj`)]);
    const h2 = net.layerNorm(x, l.ln2, c.eps, `${n}layer_norm2`);
    const mid = net.linear(h2, l.fc1, `${n}mlp.fc1`);
    const act = c.act === "gelu" ? net.gelu(mid) : net.quickGelu(mid);
    x = net.op("Add", [x, net.linear(act, l.fc2, `${n}mlp.fc2`)]);
    states.push(x);
  }
  const last = net.layerNorm(x, k.final, c.eps, `${hf}final_layer_norm`);

  // pooler_output: each row's hidden state at its first end-of-text token.
  const isEos = net.op("Cast", [net.op("Equal", [ids, net.b.scalar(DataType.INT64, c.eosTokenId)])], {
    to: DataType.INT32,
  });
  const eosAt = net.op("ArgMax", [isEos], { axis: -1, keepdims: 0 });
  const batch = net.op("Gather", [idsShape, net.b.scalar(DataType.INT64, 0)], { axis: 0 });
  const rowStart = net.op("Mul", [
    net.op("Range", [net.b.scalar(DataType.INT64, 0), batch, net.b.scalar(DataType.INT64, 1)]),
    seq,
  ]);
  const flat = net.op("Reshape", [last, net.ints([-1, C])]);
  const pooled = net.op("Gather", [flat, net.op("Add", [rowStart, eosAt])], { axis: 0 });

  const io = (name: string, dims: (number | string)[]) => ({ name, type: DataType.FLOAT, dims });
  const seqDims = ["batch_size", "sequence_length", C];
  const outputs = [];
  if (c.projection) {
    const w = net.w.take(c.projection.key, { name: "text_projection.weight" });
    outputs.push({
      io: io("text_embeds", ["batch_size", c.projection.width]),
      value: net.op("MatMul", [pooled, w]),
    });
    outputs.push({ io: io("last_hidden_state", seqDims), value: last });
  } else {
    outputs.push({ io: io("last_hidden_state", seqDims), value: last });
    outputs.push({ io: io("pooler_output", ["batch_size", C]), value: pooled });
  }
  if (c.hiddenStates) {
    states.forEach((value, i) => outputs.push({ io: io(`hidden_states.${i}`, seqDims), value }));
  }
  return {
    inputs: [{ name: ids, type: DataType.INT64, dims: ["batch_size", "sequence_length"] }],
    outputs,
  };
}
