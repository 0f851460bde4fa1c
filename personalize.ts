// deno task personalize --model DIR --clip DIR --prompt P --embedding FILE --steps T --lr LR [--json]
// Reports how far aesthetic personalization moves a prompt toward an embedding: the similarity at each step and
// the L2 norm of the change in conditioning.
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { ClipTokenizer } from "./lib/clip/tokenizer.ts";
import { promptChunks } from "./lib/clip/chunks.ts";
import { ClipTextEncoder } from "./lib/clip/text_encoder.ts";
import { readEmbedding } from "./lib/io/embedding.ts";
import { AESTHETIC_DEFAULTS, AestheticPersonalizer } from "./lib/personalize/aesthetic.ts";
import { pairLayer, textLayers } from "./lib/personalize/sources.ts";
import { DEFAULT_CLIP_DIR, DEFAULT_EMBEDDING, DEFAULT_MODEL_DIR, MODELS_DIR } from "./lib/models/defaults.ts";
import { DEVICE_ARG_OPTIONS, deviceFromArgs, sessionOptions } from "./lib/models/device.ts";
import { chooseClip, listModels } from "./lib/models/registry.ts";
import { inspectModelDir } from "./lib/models/inspect.ts";

const USAGE = `usage: deno task personalize --prompt P [--model DIR] [--clip DIR] [--embedding FILE]
       [--steps T (5)] [--lr LR (0.0001)] [--weight W (1)] [--clip-skip 1|2] [--text T]
       [--source clip|checkpoint (which text model is personalized)] [--device cpu|cuda|coreml|dml]
       [--threads N] [--json]
--model defaults to the embedded demo; --clip to the pair that matches the model (same text weights, else the
first of the same width) among the models folder and the model's siblings; --embedding to the demo embedding.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      model: { type: "string" },
      clip: { type: "string" },
      prompt: { type: "string" },
      embedding: { type: "string" },
      steps: { type: "string", default: String(AESTHETIC_DEFAULTS.steps) },
      lr: { type: "string", default: String(AESTHETIC_DEFAULTS.lr) },
      weight: { type: "string", default: "1" },
      "clip-skip": { type: "string", default: "1" },
      text: { type: "string", default: "" },
      source: { type: "string", default: "clip" },
      json: { type: "boolean", default: false },
      ...DEVICE_ARG_OPTIONS,
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.prompt === undefined) throw new Error(`--prompt is required\n${USAGE}`);
  const session = sessionOptions(deviceFromArgs(values));
  const steps = Number(values.steps);
  const lr = Number(values.lr);
  const weight = Number(values.weight);
  if (!Number.isInteger(steps) || steps < 0) {
    throw new Error(`--steps must be a whole number ≥ 0, got ${values.steps}`);
  }
  if (!Number.isFinite(lr) || lr < 0) throw new Error(`--lr must be a number ≥ 0, got ${values.lr}`);
  const model = values.model ?? DEFAULT_MODEL_DIR;
  const clip = values.clip ?? (values.model ? await matchingClip(model) : DEFAULT_CLIP_DIR);
  const encoderPath = join(model, "text_encoder", "model.onnx");
  if (!existsSync(encoderPath)) throw new Error(`${model} has no text_encoder/model.onnx`);
  const clipSkip = Number(values["clip-skip"]);
  if (values.source !== "clip" && values.source !== "checkpoint") {
    throw new Error(`--source must be clip or checkpoint, got ${values.source}`);
  }
  const layer = pairLayer(
    textLayers(join(model, "text_encoder", "config.json")),
    textLayers(join(clip, "config.json")),
    clipSkip,
    values.source,
  );

  const tokenizer = await ClipTokenizer.load(model);
  const encoder = await ClipTextEncoder.open(model, session, { clipSkip: clipSkip === 2 });
  const embedding = await readEmbedding(values.embedding ?? DEFAULT_EMBEDDING);
  const personalizer = await AestheticPersonalizer.load(clip, tokenizer, {
    layer,
    session,
    source: values.source,
    checkpointDir: model,
  });
  const dim = personalizer.engine.info.embedDim;
  if (embedding.data.length !== dim) {
    throw new Error(
      `this embedding is ${embedding.data.length}-d but the CLIP pair ${clip} is ${dim}-d`,
    );
  }
  const { chunks } = promptChunks(values.prompt!, tokenizer);
  const encode = encoder.chunkEncoder(clipSkip === 2 ? "clip_skip" : "last");
  const zs: Float32Array[] = [];
  for (const c of chunks) zs.push(await encode(c.ids));
  const z = new Float32Array(zs.reduce((n, a) => n + a.length, 0));
  zs.reduce((off, a) => (z.set(a, off), off + a.length), 0);
  const result = await personalizer.apply(z, chunks.map((c) => c.ids), embedding.data, {
    ...AESTHETIC_DEFAULTS,
    steps,
    lr,
    weight,
    text: values.text!,
  });
  const report = {
    similarity: result.similarity[0] ?? [],
    similarity_per_chunk: result.similarity,
    conditioning_delta_l2: result.deltaL2,
    dims: { embedding: dim, hidden: personalizer.engine.info.hiddenSize },
    chunks: chunks.length,
    steps,
    lr,
  };
  if (values.json) {
    console.log(JSON.stringify(report));
  } else {
    report.similarity.forEach((s, i) =>
      console.log(`step ${String(i).padStart(3)}  similarity ${s.toFixed(6)}`)
    );
    console.log(`conditioning change (L2): ${result.deltaL2.toFixed(6)}`);
  }
  await personalizer.release();
  return 0;
}

/** The CLIP pair the registry would choose for a checkpoint folder. */
async function matchingClip(model: string): Promise<string> {
  const entry = await inspectModelDir(model);
  if (!entry) throw new Error(`${model} is not a model folder (no model_index.json)`);
  const { models } = await listModels([MODELS_DIR, dirname(model)]);
  const clip = chooseClip(entry, models);
  if (!clip) throw new Error(`no CLIP pair fits ${model}: pass --clip DIR`);
  return clip.path;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`personalize: ${(e as Error).message}`);
    Deno.exit(2);
  }
}
