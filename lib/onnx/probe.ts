// Learns the shape and type of every tensor a graph computes by running it once with every intermediate exposed
// as an output. Gradient graphs are built for those fixed shapes, and the values of small integer tensors
// (axes, slice bounds) are read from the same run. A second run with other input sizes (e.g. a shorter sequence)
// tells which axes vary with the inputs, so a graph built from the probe can take any such size.
import { encodeModel, type ModelProto, num } from "./proto.ts";
import { openSession, type Tensor } from "./session.ts";
import { dataTypeOfOrt, readTensor } from "./tensor_data.ts";

export interface ProbedTensor {
  dims: number[];
  dataType: number;
  /** Values of integer tensors of at most 64 elements (absent when they differ between the probe's runs). */
  ints?: number[];
  /** Per axis: whether its size differs between the probe's runs (absent: none does). */
  varies?: boolean[];
}

const SMALL = 64;

export async function probeTensors(
  model: ModelProto,
  feeds: Record<string, Tensor>,
  otherFeeds?: Record<string, Tensor>,
): Promise<Map<string, ProbedTensor>> {
  const result = new Map<string, ProbedTensor>();
  for (const init of model.graph.initializer) {
    const dims = (init.dims ?? []).map(num);
    const entry: ProbedTensor = { dims, dataType: init.dataType ?? 0 };
    if (dims.reduce((p, d) => p * d, 1) <= SMALL && (init.dataType === 7 || init.dataType === 6)) {
      entry.ints = Array.from(readTensor(init).data as ArrayLike<number | bigint>, Number);
    }
    result.set(init.name!, entry);
  }
  for (const [name, t] of Object.entries(feeds)) result.set(name, describe(t));

  const outputs = new Set(model.graph.output.map((o) => o.name));
  const extra = [];
  for (const node of model.graph.node) {
    for (const o of node.output) {
      if (o && !outputs.has(o)) {
        outputs.add(o);
        extra.push({ name: o });
      }
    }
  }
  const probe = { ...model, graph: { ...model.graph, output: [...model.graph.output, ...extra] } };
  const session = await openSession(encodeModel(probe));
  try {
    const out = await session.run(feeds);
    for (const [name, t] of Object.entries(out)) result.set(name, describe(t));
    if (otherFeeds) {
      for (const [name, t] of Object.entries(otherFeeds)) compare(result.get(name)!, describe(t), name);
      const other = await session.run(otherFeeds);
      for (const [name, t] of Object.entries(other)) compare(result.get(name)!, describe(t), name);
    }
  } finally {
    await session.release();
  }
  return result;
}

function describe(t: Tensor): ProbedTensor {
  const entry: ProbedTensor = { dims: [...t.dims], dataType: dataTypeOfOrt(t.type) };
  if ((t.type === "int64" || t.type === "int32") && t.size <= SMALL) {
    entry.ints = Array.from(t.data as ArrayLike<number | bigint>, Number);
  }
  return entry;
}

/** Marks in `a` what differs in `b`, the same tensor from the other run. */
function compare(a: ProbedTensor, b: ProbedTensor, name: string): void {
  if (a.dims.length !== b.dims.length) throw new Error(`the rank of ${name} changes with the input sizes`);
  if (a.dims.some((d, i) => d !== b.dims[i])) a.varies = a.dims.map((d, i) => d !== b.dims[i]);
  if (a.ints && (!b.ints || a.ints.some((v, i) => v !== b.ints![i]))) delete a.ints;
}
