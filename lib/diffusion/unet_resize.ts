// Any multiple of 8 on an exported UNet. A traced export upsamples with a fixed factor of 2 (Resize with
// constant scales), so a latent side that is not a multiple of 2^(up blocks) comes back one cell too large
// and the concatenation with the skip connection fails (9 → 5 → 10 ≠ 9). diffusers passes the skip's size
// instead (`upsample_size`, when a side is not a multiple of the total factor); this rewrite does the same in
// the graph: each up-sampling Resize gets `sizes` = (its input's batch and channels, the spatial size of the
// tensor its output is concatenated with). At sizes the export handled before, the skip's size is exactly
// twice the input's, so outputs are unchanged.
import { dirname } from "node:path";
import { GraphBuilder } from "../onnx/builder.ts";
import {
  DataType,
  decodeModel,
  encodeModel,
  type ModelProto,
  type NodeProto,
  num,
  opsetOf,
} from "../onnx/proto.ts";
import { openSession, type Session, type SessionOptions } from "../onnx/session.ts";

/** Ops between an up-sampler's Resize and the Concat that keep the spatial size (the up-sampler's conv). */
const SIZE_KEEPING = new Set(["Conv", "Cast", "Identity", "Add", "Mul", "Div", "Sigmoid", "Relu"]);

export interface UpsampleRewrite {
  model: ModelProto;
  /** The Resize nodes now sized by their skip connections. */
  resized: string[];
  /** Resize nodes left as they were (no Concat found downstream), by name. */
  unmatched: string[];
}

/** Gives every nearest-neighbour Resize followed by a channel Concat the skip connection's spatial size. */
export function sizeUpsamplingToSkips(model: ModelProto): UpsampleRewrite {
  const g = model.graph;
  const resizes = g.node.filter((n) => n.opType === "Resize" && (!n.domain || n.domain === "ai.onnx"));
  if (resizes.length === 0) return { model, resized: [], unmatched: [] };
  const opset = opsetOf(model);
  if (opset < 11) return { model, resized: [], unmatched: resizes.map((n) => n.name ?? "Resize") };

  const consumers = new Map<string, NodeProto[]>();
  const position = new Map<string, number>();
  g.node.forEach((n, k) => {
    for (const i of n.input) consumers.set(i, [...(consumers.get(i) ?? []), n]);
    for (const o of n.output) position.set(o, k);
  });

  // The tensor concatenated with what the Resize produces: follow single-consumer size-keeping ops to a Concat.
  const skipOf = (resize: NodeProto): string | undefined => {
    let t = resize.output[0];
    for (let hops = 0; hops < 8; hops++) {
      const next = consumers.get(t) ?? [];
      if (next.length !== 1) return undefined;
      const n = next[0];
      if (n.opType === "Concat") {
        const axis = num(n.attribute?.find((a) => a.name === "axis")?.i);
        const others = n.input.filter((i) => i !== t);
        return axis === 1 && others.length >= 1 ? others[0] : undefined;
      }
      if (!SIZE_KEEPING.has(n.opType)) return undefined;
      t = n.output[0];
    }
    return undefined;
  };

  const b = new GraphBuilder("upsample_to_skip");
  const head = b.ints([0]);
  const mid = b.ints([2]);
  const tail = b.ints([Number.MAX_SAFE_INTEGER]);
  // Before opset 13, Resize's scales input is required even when sizes are given (then it must be empty).
  const emptyScales = opset < 13 ? b.const(DataType.FLOAT, [0], []) : "";
  const inserted = new Map<NodeProto, NodeProto[]>();
  const replaced = new Map<NodeProto, NodeProto>();
  const resized: string[] = [];
  const unmatched: string[] = [];
  for (const r of resizes) {
    const skip = skipOf(r);
    const mode = r.attribute?.find((a) => a.name === "mode")?.s;
    const nearest = mode === undefined || new TextDecoder().decode(mode) === "nearest";
    // The skip must exist before the Resize runs (graph inputs and initializers have no position).
    const ready = skip !== undefined && (position.get(skip) ?? -1) < g.node.indexOf(r);
    if (!skip || !nearest || !ready) {
      unmatched.push(r.name ?? "Resize");
      continue;
    }
    const start = b.nodes.length;
    const batchChannels = b.op("Slice", [b.op("Shape", [r.input[0]]), head, mid, head]);
    const spatial = b.op("Slice", [b.op("Shape", [skip]), mid, tail, head]);
    const sizes = b.op("Concat", [batchChannels, spatial], { axis: 0 });
    inserted.set(r, b.nodes.slice(start));
    const roi = r.input[1] ?? "";
    replaced.set(r, { ...r, input: [r.input[0], roi, emptyScales, sizes] });
    resized.push(r.name ?? "Resize");
  }
  if (resized.length === 0) return { model, resized, unmatched };
  // New nodes go right before their Resize, which keeps the node list in topological order.
  const node = g.node.flatMap((n) => [...(inserted.get(n) ?? []), replaced.get(n) ?? n]);
  // The old constant factors are now unused; onnxruntime would warn about each one on every load.
  const used = new Set(node.flatMap((n) => n.input));
  const dropped = new Set([...replaced.keys()].flatMap((r) => r.input.slice(2)).filter((t) => !used.has(t)));
  return {
    model: {
      ...model,
      graph: {
        ...g,
        node: node.filter((n) => !(n.opType === "Constant" && n.output.every((o) => dropped.has(o)))),
        initializer: [...g.initializer.filter((t) => !dropped.has(t.name ?? "")), ...b.initializers],
      },
    },
    resized,
    unmatched,
  };
}

/**
 * Opens a UNet export with its up-sampling sized by its skip connections. `anySize` says whether every latent
 * size now works; when some Resize could not be matched to a skip connection the export is opened as it is.
 */
export async function openUnet(
  path: string,
  opts: SessionOptions = {},
): Promise<{ session: Session; anySize: boolean }> {
  const rewrite = sizeUpsamplingToSkips(decodeModel(await Deno.readFile(path)));
  if (rewrite.unmatched.length > 0) return { session: await openSession(path, opts), anySize: false };
  if (rewrite.resized.length === 0) return { session: await openSession(path, opts), anySize: true };
  return { session: await openSession(encodeModel(rewrite.model), opts, dirname(path)), anySize: true };
}
