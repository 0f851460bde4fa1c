// Aesthetic personalization of a CLIP text model (Gallego 2022): for one prompt's tokens, T steps of Adam on
// every text-model weight to raise cos(text_embeds, e), reading the conditioning off the personalized model.
// The weights live in one flat buffer fed to onnxruntime as inputs, so nothing is reloaded or deep-copied per
// prompt: a new prompt starts from the original dense weights, kept once, and the embedding tables' rows it
// changed are put back from copies taken before its first update.
import { buildGradientModel, initializersToInputs } from "../onnx/autodiff.ts";
import { fuseLayerNorms } from "../onnx/layer_norm.ts";
import { decodeModel, encodeModel, type ModelProto, num, type TensorProto } from "../onnx/proto.ts";
import { openRunSession } from "../onnx/ffi_session.ts";
import { openSession, type RunSession, type SessionOptions, Tensor } from "../onnx/session.ts";
import { readTensor } from "../onnx/tensor_data.ts";
import type { AdamKernel } from "./adam.ts";
import { PartedAdam } from "./parted_adam.ts";
import {
  graphCacheEntry,
  type PersonalizationGraphs,
  readGraphs,
  type Slot,
  writeGraphs,
} from "./graph_cache.ts";
import { AESTHETIC_INPUT, LOSS, SIMILARITY, withAestheticLoss } from "./loss_graph.ts";
import { dirname } from "node:path";

export interface PersonalizeOptions {
  steps: number;
  lr: number;
  /** Step counts whose conditioning to return (default: only `steps`). One run serves a whole sweep. */
  keep?: number[];
  /** Normalize the embedding first (default true: the paper's loop does). */
  normalize?: boolean;
  /** Polled before every Adam step; true stops the run with PersonalizationStopped (interrupt, skip). */
  shouldStop?: () => boolean;
}

/** The run was stopped between Adam steps (the WebUI's interrupt or skip); nothing of it is kept. */
export class PersonalizationStopped extends Error {
  constructor(step: number) {
    super(`the aesthetic optimization was stopped before step ${step + 1}`);
    this.name = "PersonalizationStopped";
  }
}

export interface PersonalizeResult {
  /** cos(text_embeds, e) before each step and after the last: steps + 1 values. */
  similarity: number[];
  /** The conditioning (tokens × hidden, row-major) after k steps, for each requested k. */
  conditioning: Map<number, Float32Array>;
  /** With EngineOptions.pooledOutput: the projected text embedding after k steps, for the same k. */
  pooled?: Map<number, Float32Array>;
}

export interface TextModelInfo {
  /** Width of text_embeds, which the aesthetic embedding must match. */
  embedDim: number;
  hiddenSize: number;
  tokens: number;
  /** Weights personalized, and those of them updated densely (the rest are embedding rows, updated sparsely). */
  parameters: number;
  denseParameters: number;
  /** Gradient steps run on the prompt's tokens up to its padding (gradientTokens), not all 77. */
  prefixOnly: boolean;
}

/** Names the output the conditioning is read from; a CLIP-skip output may be added to the graph beforehand. */
export interface EngineOptions {
  threads?: number;
  /** Device and threads for every session (takes precedence over `threads`). */
  session?: SessionOptions;
  conditioningOutput?: string;
  /** Also return this output at the kept steps (SDXL's pooled vector: the second encoder's text_embeds). */
  pooledOutput?: string;
  /** Rewrites the forward model before differentiation (e.g. to expose the penultimate layer). */
  transform?: (model: ModelProto) => ModelProto;
  modelName?: string;
  /**
   * Keep the built graphs in this folder (graph_cache.ts), with `key` naming what `transform` does (the same
   * key must always mean the same rewrite). Without it every load builds them.
   */
  cache?: { dir: string; key: string };
}

export class TextPersonalizer {
  #busy = false;

  private constructor(
    readonly info: TextModelInfo,
    readonly modelName: string,
    private readonly conditioningOutput: string,
    private readonly pooledOutput: string | undefined,
    private readonly grad: RunSession,
    private readonly forward: RunSession,
    private readonly slots: Slot[],
    /** The dense slots' original bytes; undefined for embedding tables (their rows are restored, see SparseRows). */
    private readonly original: (Uint8Array | undefined)[],
    private readonly gradNames: Record<string, string>,
    private readonly weights: PartedAdam,
  ) {}

  /**
   * Builds (or finds in `opts.cache`) the gradient graph of a CLIP text model with projection (outputs
   * text_embeds and last_hidden_state), and loads its weights.
   */
  static async load(path: string, opts: EngineOptions = {}): Promise<TextPersonalizer> {
    const decoded = decodeModel(Deno.readFileSync(path));
    const base = opts.transform ? opts.transform(decoded) : decoded;
    const outputs = base.graph.output.map((o) => o.name);
    if (!outputs.includes("text_embeds")) {
      throw new Error(
        `${path} has no text_embeds output: personalization needs a CLIP text model with its projection ` +
          `(outputs: ${outputs.join(", ")})`,
      );
    }
    const condName = opts.conditioningOutput ?? "last_hidden_state";
    if (!outputs.includes(condName)) throw new Error(`${path} has no ${condName} output`);
    if (opts.pooledOutput && !outputs.includes(opts.pooledOutput)) {
      throw new Error(`${path} has no ${opts.pooledOutput} output`);
    }
    const byName = new Map(base.graph.initializer.map((t) => [t.name!, t]));
    const entry = opts.cache
      ? await graphCacheEntry(opts.cache.dir, path, `${opts.cache.key}|${condName}`)
      : undefined;
    const session = opts.session ?? { threads: opts.threads ?? 0 };
    const open = async (g: PersonalizationGraphs) =>
      [g, await openRunSession(g.gradient, session), await openRunSession(g.forward, session)] as const;
    let cached = entry ? await readGraphs(entry) : undefined;
    // An entry whose parameters are not this model's, or whose graphs do not load, was damaged: rebuilt.
    if (
      cached && !cached.meta.slots.every((s) => byName.get(s.name)?.dims?.map(num).join() === s.dims.join())
    ) {
      cached = undefined;
    }
    const opened = cached ? await open(cached).catch(() => undefined) : undefined;
    const [graphs, grad, forward] = opened ?? await open(await buildGraphs(base, condName));
    const { slots, embedDim, hiddenSize, gradOf } = graphs.meta;
    const total = slots.reduce((n, s) => n + s.size, 0);
    const denseTotal = slots.filter((s) => !s.sparse).reduce((n, s) => n + s.size, 0);
    const fileBytes = slots.map((s) => {
      const bytes = tensorBytes(byName.get(s.name)!, dirname(path));
      if (bytes.byteLength !== s.size * 4) throw new Error(`${s.name} is not a float32 weight`);
      return bytes;
    });
    // The working weights, the dense gradient and the Adam moments, updated in place, in parts on all cores.
    const weights = new PartedAdam(
      slots.map((s) => ({ size: s.size, sparse: s.sparse !== undefined })),
      session.threads || navigator.hardwareConcurrency,
    );
    restore(weights, fileBytes);
    const original = keptOriginals(slots, fileBytes);
    if (!opened) {
      graphs.meta.prefixOnly &&= await pooledFromPrefix(forward, slots, weights, embedDim);
      if (entry) await writeGraphs(entry, graphs);
    }
    return new TextPersonalizer(
      {
        embedDim,
        hiddenSize,
        tokens: TOKENS,
        parameters: total,
        denseParameters: denseTotal,
        prefixOnly: graphs.meta.prefixOnly,
      },
      opts.modelName ?? path,
      condName,
      opts.pooledOutput,
      grad,
      forward,
      slots,
      original,
      gradOf,
      weights,
    );
  }

  /** Personalizes the text model toward `embedding` for one 77-token prompt; the weights are restored after. */
  async personalize(
    ids: ArrayLike<number>,
    embedding: Float32Array,
    opts: PersonalizeOptions,
  ): Promise<PersonalizeResult> {
    validate(ids, embedding, opts, this.info, this.modelName);
    if (this.#busy) throw new Error("this text model is already personalizing another prompt");
    this.#busy = true;
    try {
      return await this.#run(ids, opts.normalize === false ? embedding : normalized(embedding), opts);
    } finally {
      this.#busy = false;
    }
  }

  async #run(ids: ArrayLike<number>, e: Float32Array, opts: PersonalizeOptions): Promise<PersonalizeResult> {
    const keep = new Set(opts.keep ?? [opts.steps]);
    const idTensor = new Tensor("int64", BigInt64Array.from(Array.from(ids, BigInt)), [1, this.info.tokens]);
    // The gradient steps may run on the prompt's prefix alone; the conditioning always needs every token.
    const gradTokens = this.info.prefixOnly ? gradientTokens(ids) : this.info.tokens;
    const gradIds = gradTokens === this.info.tokens
      ? idTensor
      : new Tensor("int64", (idTensor.data as BigInt64Array).slice(0, gradTokens), [1, gradTokens]);
    const eTensor = new Tensor("float32", e, [1, this.info.embedDim]);
    // The weights are the original ones here: load put them there, and every run puts them back when it ends.
    const rowStates = new Map<number, SparseRows>();
    this.weights.start();
    try {
      return await this.#steps(idTensor, gradIds, eTensor, opts, keep, rowStates);
    } finally {
      this.weights.stop();
      restore(this.weights, this.original);
      for (const [i, rows] of rowStates) rows.restore(this.weights.weights(i));
    }
  }

  async #steps(
    idTensor: Tensor,
    gradIds: Tensor,
    eTensor: Tensor,
    opts: PersonalizeOptions,
    keep: Set<number>,
    rowStates: Map<number, SparseRows>,
  ): Promise<PersonalizeResult> {
    const inputName = this.grad.inputNames[0];
    const similarity: number[] = [];
    const conditioning = new Map<number, Float32Array>();
    const pooledName = this.pooledOutput;
    const pooled = pooledName ? new Map<number, Float32Array>() : undefined;
    const outputs = [this.conditioningOutput, ...pooledName ? [pooledName] : []];
    const keepOutputs = (step: number, out: Record<string, Tensor>) => {
      conditioning.set(step, (out[this.conditioningOutput].data as Float32Array).slice());
      if (pooledName) pooled!.set(step, (out[pooledName].data as Float32Array).slice());
    };
    const feeds = (idsFeed = idTensor): Record<string, Tensor> => {
      const f: Record<string, Tensor> = { [inputName]: idsFeed, [AESTHETIC_INPUT]: eTensor };
      this.slots.forEach((s, i) => f[s.name] = new Tensor("float32", this.weights.weights(i), s.dims));
      return f;
    };
    for (let step = 0; step < opts.steps; step++) {
      if (opts.shouldStop?.()) throw new PersonalizationStopped(step);
      const fetches: Record<string, Tensor | null> = { [SIMILARITY]: null };
      const fullLength = gradIds === idTensor;
      if (keep.has(step)) {
        if (fullLength) { for (const name of outputs) fetches[name] = null; }
        else keepOutputs(step, await this.forward.run(feeds(), outputs));
      }
      this.slots.forEach((s, i) => {
        if (s.sparse) {
          fetches[s.sparse.indices] = null;
          fetches[s.sparse.rows] = null;
        } else {
          fetches[this.gradNames[s.name]] = new Tensor("float32", this.weights.grad(i), s.dims);
        }
      });
      const out = await this.grad.run(feeds(gradIds), fetches);
      similarity.push((out[SIMILARITY].data as Float32Array)[0]);
      if (keep.has(step) && fullLength) keepOutputs(step, out);
      const dense = this.weights.step(opts.lr);
      for (const [i, s] of this.slots.entries()) {
        if (!s.sparse) continue;
        const table = this.weights.weights(i);
        const indices = out[s.sparse.indices].data as BigInt64Array;
        const rows = out[s.sparse.rows].data as Float32Array;
        let state = rowStates.get(i);
        if (!state) rowStates.set(i, state = new SparseRows(table, indices, s.dims[0], s.size / s.dims[0]));
        state.step(this.weights.kernel, table, indices, rows, step + 1, opts.lr);
      }
      await dense;
    }
    const out = await this.forward.run(feeds(), [SIMILARITY, ...outputs]);
    similarity.push((out[SIMILARITY].data as Float32Array)[0]);
    keepOutputs(opts.steps, out);
    return pooled ? { similarity, conditioning, pooled } : { similarity, conditioning };
  }

  async release(): Promise<void> {
    await Promise.all([this.grad.release(), this.forward.release(), this.weights.close()]);
  }
}

/**
 * Adam on the used rows of an embedding table. A row that never gets a gradient keeps zero moments, and torch's
 * Adam leaves such a row exactly as it is, so updating only the used rows gives the same weights. Made before the
 * table's first update, it keeps those rows' original values, which `restore` puts back.
 */
class SparseRows {
  readonly #slot = new Map<number, number>();
  readonly #ids: number[] = [];
  readonly #original: Float32Array;
  readonly #p: Float32Array;
  readonly #m: Float32Array;
  readonly #v: Float32Array;
  readonly #g: Float32Array;

  constructor(
    table: Float32Array,
    indices: BigInt64Array,
    rowsInTable: number,
    private readonly width: number,
  ) {
    for (const i of indices) {
      const id = Number(i < 0n ? i + BigInt(rowsInTable) : i);
      if (!this.#slot.has(id)) {
        this.#slot.set(id, this.#ids.length);
        this.#ids.push(id);
      }
    }
    const n = this.#ids.length * width;
    this.#p = new Float32Array(n);
    this.#m = new Float32Array(n);
    this.#v = new Float32Array(n);
    this.#g = new Float32Array(n);
    this.#original = new Float32Array(n);
    this.#ids.forEach((id, k) => this.#original.set(table.subarray(id * width, (id + 1) * width), k * width));
  }

  /** Puts the original values of the rows back into the table. */
  restore(table: Float32Array): void {
    const w = this.width;
    this.#ids.forEach((id, k) => table.set(this.#original.subarray(k * w, (k + 1) * w), id * w));
  }

  step(
    kernel: AdamKernel,
    table: Float32Array,
    indices: BigInt64Array,
    rows: Float32Array,
    step: number,
    lr: number,
  ) {
    const w = this.width;
    const rowsInTable = table.length / w;
    this.#g.fill(0);
    indices.forEach((i, r) => {
      const id = Number(i < 0n ? i + BigInt(rowsInTable) : i);
      const k = this.#slot.get(id);
      if (k === undefined) throw new Error("the gathered rows changed between steps");
      for (let c = 0; c < w; c++) this.#g[k * w + c] += rows[r * w + c];
    });
    this.#ids.forEach((id, k) => this.#p.set(table.subarray(id * w, (id + 1) * w), k * w));
    kernel.update(this.#p, this.#m, this.#v, this.#g, step, lr);
    this.#ids.forEach((id, k) => table.set(this.#p.subarray(k * w, (k + 1) * w), id * w));
  }
}

const TOKENS = 77;

/** A float tensor's bytes as stored: a view into the model file's buffer when the data is inline. */
function tensorBytes(t: TensorProto, dir: string): Uint8Array {
  if (t.dataLocation !== 1 && t.rawData && t.rawData.byteLength > 0) return t.rawData;
  const data = readTensor(t, dir).data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Puts the original weights back (a byte copy: file data need not be aligned); slots without bytes are skipped. */
function restore(weights: PartedAdam, original: (Uint8Array | undefined)[]): void {
  original.forEach((bytes, i) => {
    if (!bytes) return;
    const w = weights.weights(i);
    new Uint8Array(w.buffer, w.byteOffset, w.byteLength).set(bytes);
  });
}

/**
 * The original bytes a prompt restores: the dense slots'. An embedding table needs none once the working
 * weights hold it (a prompt changes only its rows, which SparseRows copies first). Dense bytes that share a
 * buffer with a table (the model file's, read once) are copied out, so that the file's bytes, table and all, can
 * be freed: the CLIP ViT-L/14 token table alone is 152 MB.
 */
function keptOriginals(slots: Slot[], bytes: Uint8Array[]): (Uint8Array | undefined)[] {
  const tableBuffers = new Set(slots.flatMap((s, i) => s.sparse ? [bytes[i].buffer] : []));
  if (tableBuffers.size === 0) return bytes;
  const shared = slots.map((s, i) => !s.sparse && tableBuffers.has(bytes[i].buffer));
  const copy = new Uint8Array(bytes.reduce((n, b, i) => n + (shared[i] ? b.byteLength : 0), 0));
  let at = 0;
  return slots.map((s, i) => {
    if (s.sparse) return undefined;
    if (!shared[i]) return bytes[i];
    const kept = copy.subarray(at, at + bytes[i].byteLength);
    kept.set(bytes[i]);
    at += bytes[i].byteLength;
    return kept;
  });
}

/** The second length the gradient graph is probed at, telling which axes follow the number of tokens. */
const PROBE_PREFIX = 16;

/**
 * Tokens a gradient step needs: up to the start of the padding (the run of equal ids that ends the 77), which
 * includes the end-of-text token text_embeds is pooled at (SD 1.x pads with it, SD 2.x with 0 after it).
 * With causal attention no earlier token sees a later one, so the loss and every gradient are those of the
 * whole sequence; the later tokens' share of each gradient is exactly zero. pooledFromPrefix checks this
 * holds for a model before it is used.
 */
export function gradientTokens(ids: ArrayLike<number>): number {
  let start = ids.length - 1;
  while (start > 0 && ids[start - 1] === ids[ids.length - 1]) start--;
  return start + 1;
}

/**
 * Whether text_embeds of a whole 77-token prompt equals that of its prefix up to the padding (gradientTokens),
 * for both paddings in use (the end-of-text token, and 0 after it); any model that is not causal, or pools
 * elsewhere, fails it.
 */
async function pooledFromPrefix(
  forward: RunSession,
  slots: Slot[],
  weights: PartedAdam,
  embedDim: number,
): Promise<boolean> {
  const feeds: Record<string, Tensor> = {
    [AESTHETIC_INPUT]: new Tensor("float32", new Float32Array(embedDim).fill(1 / Math.sqrt(embedDim)), [
      1,
      embedDim,
    ]),
  };
  slots.forEach((s, i) => feeds[s.name] = new Tensor("float32", weights.weights(i), s.dims));
  const embeds = async (ids: number[]) => {
    const t = new Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]);
    const out = await forward.run({ ...feeds, [forward.inputNames[0]]: t }, ["text_embeds"]);
    return out.text_embeds.data as Float32Array;
  };
  const prompt = [49406, 320, 1125, 539, 49407];
  try {
    for (const pad of [49407, 0]) {
      const ids = [...prompt, ...new Array(TOKENS - prompt.length).fill(pad)];
      const [whole, prefix] = [await embeds(ids), await embeds(ids.slice(0, gradientTokens(ids)))];
      let scale = 0, diff = 0;
      whole.forEach((x, i) => {
        scale = Math.max(scale, Math.abs(x));
        diff = Math.max(diff, Math.abs(x - prefix[i]));
      });
      if (!(diff <= 1e-5 * scale)) return false;
    }
    return true;
  } catch {
    // A vocabulary without these ids, or a graph that rejects another length: every step uses all 77 tokens.
    return false;
  }
}

/**
 * The paper's loss appended to the text model, its gradient graph with respect to every text-model weight
 * (embedding tables sparse), and the forward graph with the weights as inputs, for CLIP's fixed 77 tokens.
 */
async function buildGraphs(base: ModelProto, condName: string): Promise<PersonalizationGraphs> {
  const outputs = base.graph.output.map((o) => o.name);
  const embedDim = staticDim(base, "text_embeds", -1) || await probedWidth(base, "text_embeds");
  // Layer norms as single ops, so their gradients read the saved statistics (layer_norm.ts).
  const model = withAestheticLoss(fuseLayerNorms(base), "text_embeds", embedDim);
  // Every text-model weight, whichever layer the conditioning is read from (as the paper's loop does).
  const params = trainableParams(
    model,
    outputs.includes("last_hidden_state") ? "last_hidden_state" : condName,
  );
  const e = new Tensor("float32", new Float32Array(embedDim), [1, embedDim]);
  const feedsOf = (tokens: number) => ({
    [model.graph.input[0].name]: new Tensor("int64", new BigInt64Array(tokens), [1, tokens]),
    [AESTHETIC_INPUT]: e,
  });
  const sparse = embeddingTables(model, params);
  const spec = { model, params, loss: LOSS, feeds: feedsOf(TOKENS), sparse };
  // A gradient graph that takes any number of tokens, when the export allows it; else one for 77.
  const variable = await buildGradientModel({ ...spec, otherFeeds: feedsOf(PROBE_PREFIX) }).catch(() =>
    undefined
  );
  const gradient = variable ?? await buildGradientModel(spec);

  // Dense parameters first, so the dense gradient and Adam moments cover one prefix of the buffer.
  const slots: Slot[] = [];
  let total = 0;
  const byName = new Map(model.graph.initializer.map((t) => [t.name!, t]));
  for (const name of [...params.filter((p) => !sparse.includes(p)), ...sparse]) {
    const dims = (byName.get(name)!.dims ?? []).map(num);
    const size = dims.reduce((p, d) => p * d, 1);
    slots.push({ name, dims, offset: total, size, sparse: gradient.sparseOf[name] });
    total += size;
  }
  // A rewritten output (CLIP skip) has no declared shape; the hidden width is last_hidden_state's.
  const hiddenSize = staticDim(
    base,
    outputs.includes("last_hidden_state") ? "last_hidden_state" : condName,
    -1,
  );
  return {
    gradient: encodeModel(gradient.model),
    forward: encodeModel(initializersToInputs(model, params)),
    meta: { embedDim, hiddenSize, slots, gradOf: gradient.gradOf, prefixOnly: variable !== undefined },
  };
}

/** Parameters read only as rows by one Gather along axis 0 (token and position embeddings). */
function embeddingTables(model: ModelProto, params: string[]): string[] {
  const uses = new Map<string, { gathers: number; other: number }>();
  for (const p of params) uses.set(p, { gathers: 0, other: 0 });
  for (const n of model.graph.node) {
    n.input.forEach((i, k) => {
      const u = uses.get(i);
      if (!u) return;
      const axis = num(n.attribute?.find((a) => a.name === "axis")?.i);
      if (n.opType === "Gather" && k === 0 && axis === 0) u.gathers++;
      else u.other++;
    });
  }
  return params.filter((p) => uses.get(p)!.gathers === 1 && uses.get(p)!.other === 0);
}

/** Every float weight the conditioning depends on: the whole text model, not the projection after it. */
function trainableParams(model: ModelProto, output: string): string[] {
  const inits = new Map(model.graph.initializer.map((t) => [t.name!, t]));
  const producer = new Map<string, (typeof model.graph.node)[number]>();
  for (const node of model.graph.node) for (const o of node.output) producer.set(o, node);
  const seen = new Set<string>();
  const stack = [output];
  const params: string[] = [];
  while (stack.length) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const init = inits.get(name);
    if (init) {
      const size = (init.dims ?? []).map(num).reduce((p, d) => p * d, 1);
      // Scalars are exporter constants (scales, epsilons), not weights.
      if (init.dataType === 1 && size > 1) params.push(name);
      continue;
    }
    const node = producer.get(name);
    if (node) stack.push(...node.input.filter((i) => i));
  }
  // Keep the model's own order so the flat buffer layout is stable.
  const set = new Set(params);
  return model.graph.initializer.map((t) => t.name!).filter((n) => set.has(n));
}

function staticDim(model: ModelProto, output: string, axis: number): number {
  const info = model.graph.output.find((o) => o.name === output);
  const dims = info?.type?.tensorType?.shape?.dim ?? [];
  const d = dims.at(axis);
  return d?.dimValue !== undefined ? num(d.dimValue) : 0;
}

/** The last axis of an output the export left symbolic, from one run on placeholder ids. */
async function probedWidth(model: ModelProto, output: string): Promise<number> {
  const session = await openSession(encodeModel(model));
  try {
    const ids = new Tensor("int64", new BigInt64Array(77), [1, 77]);
    const out = await session.run({ [session.inputNames[0]]: ids }, [output]);
    return out[output].dims.at(-1)!;
  } finally {
    await session.release();
  }
}

function normalized(e: Float32Array): Float32Array {
  let s = 0;
  for (const x of e) s += x * x;
  const n = Math.sqrt(s);
  return e.map((x) => x / n);
}

function validate(
  ids: ArrayLike<number>,
  e: Float32Array,
  opts: PersonalizeOptions,
  info: TextModelInfo,
  model: string,
): void {
  if (ids.length !== info.tokens) throw new Error(`expected ${info.tokens} token ids, got ${ids.length}`);
  if (e.length !== info.embedDim) {
    throw new Error(
      `the aesthetic embedding is ${e.length}-d but the text model ${model} projects to ${info.embedDim}-d`,
    );
  }
  let s = 0;
  for (const x of e) {
    if (!Number.isFinite(x)) throw new Error("the aesthetic embedding contains NaN or Inf");
    s += x * x;
  }
  if (s === 0) throw new Error("the aesthetic embedding has zero norm");
  if (!Number.isInteger(opts.steps) || opts.steps < 0) {
    throw new Error(`aesthetic steps must be a whole number ≥ 0, got ${opts.steps}`);
  }
  if (!Number.isFinite(opts.lr) || opts.lr < 0) {
    throw new Error(`aesthetic learning rate must be ≥ 0, got ${opts.lr}`);
  }
  for (const k of opts.keep ?? []) {
    if (!Number.isInteger(k) || k < 0 || k > opts.steps) {
      throw new Error(`cannot keep the conditioning at step ${k} of a ${opts.steps}-step run`);
    }
  }
}
