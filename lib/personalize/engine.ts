// Aesthetic personalization of a CLIP text model (Gallego 2022): for one prompt's tokens, T steps of Adam on
// every text-model weight to raise cos(text_embeds, e), reading the conditioning off the personalized model.
// The weights live in one flat buffer fed to onnxruntime as inputs, so nothing is reloaded or deep-copied per
// prompt: a new prompt starts from a copy of the original buffer.
import { buildGradientModel, initializersToInputs } from "../onnx/autodiff.ts";
import { decodeModel, encodeModel, type ModelProto, num } from "../onnx/proto.ts";
import { openSession, type Session, Tensor } from "../onnx/session.ts";
import { readTensor } from "../onnx/tensor_data.ts";
import { FlatAdam } from "./adam.ts";
import { AESTHETIC_INPUT, LOSS, SIMILARITY, withAestheticLoss } from "./loss_graph.ts";
import { dirname } from "node:path";

export interface PersonalizeOptions {
  steps: number;
  lr: number;
  /** Step counts whose conditioning to return (default: only `steps`). One run serves a whole sweep. */
  keep?: number[];
  /** Normalize the embedding first (default true: the paper's loop does). */
  normalize?: boolean;
}

export interface PersonalizeResult {
  /** cos(text_embeds, e) before each step and after the last: steps + 1 values. */
  similarity: number[];
  /** The conditioning (tokens × hidden, row-major) after k steps, for each requested k. */
  conditioning: Map<number, Float32Array>;
}

interface Slot {
  name: string;
  dims: number[];
  offset: number;
  size: number;
}

export interface TextModelInfo {
  /** Width of text_embeds, which the aesthetic embedding must match. */
  embedDim: number;
  hiddenSize: number;
  tokens: number;
}

/** Names the output the conditioning is read from; a CLIP-skip output may be added to the graph beforehand. */
export interface EngineOptions {
  threads?: number;
  conditioningOutput?: string;
  /** Rewrites the forward model before differentiation (e.g. to expose the penultimate layer). */
  transform?: (model: ModelProto) => ModelProto;
  modelName?: string;
}

export class TextPersonalizer {
  #busy = false;

  private constructor(
    readonly info: TextModelInfo,
    readonly modelName: string,
    private readonly conditioningOutput: string,
    private readonly grad: Session,
    private readonly forward: Session,
    private readonly slots: Slot[],
    private readonly original: Float32Array,
    private readonly params: Float32Array,
    private readonly grads: Float32Array,
    private readonly gradNames: Record<string, string>,
    private readonly adam: FlatAdam,
  ) {}

  /** Builds the gradient graph of a CLIP text model with projection (outputs text_embeds and last_hidden_state). */
  static async load(path: string, opts: EngineOptions = {}): Promise<TextPersonalizer> {
    const decoded = decodeModel(Deno.readFileSync(path));
    const base = opts.transform ? opts.transform(decoded) : decoded;
    const outputs = base.graph.output.map((o) => o.name);
    const embedsName = outputs.includes("text_embeds") ? "text_embeds" : undefined;
    if (!embedsName) {
      throw new Error(
        `${path} has no text_embeds output: personalization needs a CLIP text model with its projection ` +
          `(outputs: ${outputs.join(", ")})`,
      );
    }
    const condName = opts.conditioningOutput ?? "last_hidden_state";
    if (!outputs.includes(condName)) throw new Error(`${path} has no ${condName} output`);
    const embedDim = staticDim(base, embedsName, -1);
    const tokens = 77;
    const model = withAestheticLoss(base, embedsName, embedDim);
    // Every text-model weight, whichever layer the conditioning is read from (as the paper's loop does).
    const params = trainableParams(
      model,
      outputs.includes("last_hidden_state") ? "last_hidden_state" : condName,
    );

    const ids = new Tensor("int64", new BigInt64Array(tokens), [1, tokens]);
    const e = new Tensor("float32", new Float32Array(embedDim), [1, embedDim]);
    const feeds = { [model.graph.input[0].name]: ids, [AESTHETIC_INPUT]: e };
    const gradient = await buildGradientModel({ model, params, loss: LOSS, feeds });

    const slots: Slot[] = [];
    let total = 0;
    const byName = new Map(model.graph.initializer.map((t) => [t.name!, t]));
    for (const name of params) {
      const dims = (byName.get(name)!.dims ?? []).map(num);
      const size = dims.reduce((p, d) => p * d, 1);
      slots.push({ name, dims, offset: total, size });
      total += size;
    }
    const original = new Float32Array(total);
    for (const s of slots) {
      original.set(readTensor(byName.get(s.name)!, dirname(path)).data as Float32Array, s.offset);
    }
    const threads = opts.threads ?? 0;
    const grad = await openSession(encodeModel(gradient.model), { threads });
    const forward = await openSession(encodeModel(initializersToInputs(model, params)), { threads });
    const current = new Float32Array(total);
    const grads = new Float32Array(total);
    const adam = await FlatAdam.create(current, grads, threads);
    // A rewritten output (CLIP skip) has no declared shape; the hidden width is last_hidden_state's.
    const hiddenSize = staticDim(
      base,
      outputs.includes("last_hidden_state") ? "last_hidden_state" : condName,
      -1,
    );
    return new TextPersonalizer(
      { embedDim, hiddenSize, tokens },
      opts.modelName ?? path,
      condName,
      grad,
      forward,
      slots,
      original,
      current,
      grads,
      gradient.gradOf,
      adam,
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
    const eTensor = new Tensor("float32", e, [1, this.info.embedDim]);
    const inputName = this.grad.inputNames[0];
    this.params.set(this.original);
    this.adam.reset();
    const similarity: number[] = [];
    const conditioning = new Map<number, Float32Array>();
    const feeds = (): Record<string, Tensor> => {
      const f: Record<string, Tensor> = { [inputName]: idTensor, [AESTHETIC_INPUT]: eTensor };
      for (const s of this.slots) {
        f[s.name] = new Tensor("float32", this.params.subarray(s.offset, s.offset + s.size), s.dims);
      }
      return f;
    };
    for (let step = 0; step < opts.steps; step++) {
      const fetches: Record<string, Tensor | null> = { [SIMILARITY]: null, [this.conditioningOutput]: null };
      for (const s of this.slots) {
        fetches[this.gradNames[s.name]] = new Tensor(
          "float32",
          this.grads.subarray(s.offset, s.offset + s.size),
          s.dims,
        );
      }
      const out = await this.grad.run(feeds(), fetches);
      similarity.push((out[SIMILARITY].data as Float32Array)[0]);
      if (keep.has(step)) conditioning.set(step, (out[this.conditioningOutput].data as Float32Array).slice());
      await this.adam.step(opts.lr);
    }
    const out = await this.forward.run(feeds(), [SIMILARITY, this.conditioningOutput]);
    similarity.push((out[SIMILARITY].data as Float32Array)[0]);
    conditioning.set(opts.steps, (out[this.conditioningOutput].data as Float32Array).slice());
    this.params.set(this.original);
    return { similarity, conditioning };
  }

  async release(): Promise<void> {
    await Promise.all([this.grad.release(), this.forward.release(), this.adam.release()]);
  }
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
  const value = d?.dimValue !== undefined ? num(d.dimValue) : 0;
  if (!value) throw new Error(`the size of ${output}'s last axis is not fixed in the model`);
  return value;
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
