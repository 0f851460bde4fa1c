// deno task personalize --model DIR --clip DIR --prompt P --embedding FILE --steps T --lr LR [--json]
// Reports how far aesthetic personalization moves a prompt toward an embedding: the similarity at each step and
// the L2 norm of the change in conditioning.
import { parseArgs } from "node:util";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { ClipTokenizer } from "./lib/clip/tokenizer.ts";
import { promptChunks } from "./lib/clip/chunks.ts";
import { ClipTextEncoder } from "./lib/clip/text_encoder.ts";
import { readEmbedding } from "./lib/io/embedding.ts";
import { AESTHETIC_DEFAULTS, AestheticPersonalizer } from "./lib/personalize/aesthetic.ts";
import { pairLayer, textLayers } from "./lib/personalize/sources.ts";

const USAGE = `usage: deno task personalize --model DIR --clip DIR --prompt P --embedding FILE
       [--steps T (5)] [--lr LR (0.0001)] [--weight W (1)] [--clip-skip 1|2] [--text T]
       [--source clip|checkpoint (which text model is personalized)] [--json]`;

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
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  for (const k of ["model", "clip", "prompt", "embedding"] as const) {
    if (values[k] === undefined) throw new Error(`--${k} is required\n${USAGE}`);
  }
  const steps = Number(values.steps);
  const lr = Number(values.lr);
  const weight = Number(values.weight);
  if (!Number.isInteger(steps) || steps < 0) {
    throw new Error(`--steps must be a whole number ≥ 0, got ${values.steps}`);
  }
  if (!Number.isFinite(lr) || lr < 0) throw new Error(`--lr must be a number ≥ 0, got ${values.lr}`);
  const model = values.model!;
  const encoderPath = join(model, "text_encoder", "model.onnx");
  if (!existsSync(encoderPath)) throw new Error(`${model} has no text_encoder/model.onnx`);
  const clipSkip = Number(values["clip-skip"]);
  if (values.source !== "clip" && values.source !== "checkpoint") {
    throw new Error(`--source must be clip or checkpoint, got ${values.source}`);
  }
  const layer = pairLayer(
    textLayers(join(model, "text_encoder", "config.json")),
    textLayers(join(values.clip!, "config.json")),
    clipSkip,
    values.source,
  );

  const tokenizer = await ClipTokenizer.load(model);
  const encoder = await ClipTextEncoder.open(model, {}, { clipSkip: clipSkip === 2 });
  const embedding = await readEmbedding(values.embedding!);
  const personalizer = await AestheticPersonalizer.load(values.clip!, tokenizer, {
    layer,
    source: values.source,
    checkpointDir: model,
  });
  const dim = personalizer.engine.info.embedDim;
  if (embedding.data.length !== dim) {
    throw new Error(
      `this embedding is ${embedding.data.length}-d but the CLIP pair ${values.clip} is ${dim}-d`,
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

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`personalize: ${(e as Error).message}`);
    Deno.exit(2);
  }
}
