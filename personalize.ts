// deno task personalize --model DIR --clip DIR --prompt P --embedding FILE --steps T --lr LR [--json]
// Reports how far aesthetic personalization moves a prompt toward an embedding: the similarity at each step and
// the L2 norm of the change in conditioning.
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { encodeChunks, promptChunks } from "./lib/clip/chunks.ts";
import { asHooked } from "./lib/clip/conditioning_hook.ts";
import { ClipTextEncoder } from "./lib/clip/text_encoder.ts";
import { ClipTokenizer } from "./lib/clip/tokenizer.ts";
import { encodeXl } from "./lib/diffusion/conditioning.ts";
import { type Embedding, readEmbedding } from "./lib/io/embedding.ts";
import { AESTHETIC_DEFAULTS, type AestheticSettings } from "./lib/personalize/aesthetic.ts";
import { AestheticSession, checkAestheticSettings } from "./lib/personalize/aesthetic_session.ts";
import { DEFAULT_EMBEDDING, DEFAULT_MODEL_DIR } from "./lib/models/defaults.ts";
import { DEVICE_ARG_OPTIONS, deviceFromArgs, sessionOptions } from "./lib/models/device.ts";
import { clipDirFor } from "./lib/models/registry.ts";

const USAGE = `usage: deno task personalize --prompt P [--model DIR] [--clip DIR] [--embedding FILE]
       [--steps T (5)] [--lr LR (0.0001)] [--weight W (1)] [--clip-skip 1|2] [--text T]
       [--source clip|checkpoint (which text model is personalized)] [--device cpu|cuda|coreml|dml]
       [--threads N] [--json]
--model defaults to the embedded demo; --clip to the pair that matches the model (same text weights, else the
first of the same width) among the models folder and the model's siblings; --embedding to the demo embedding.
SDXL: each --embedding (give two for both encoders) personalizes the text encoder of its width (768: the first,
with the ViT-L/14 pair's projection; 1280: the second, with its own); dims.embedding lists their widths.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      model: { type: "string" },
      clip: { type: "string" },
      prompt: { type: "string" },
      embedding: { type: "string", multiple: true },
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
  const settings: AestheticSettings = {
    ...AESTHETIC_DEFAULTS,
    steps: Number(values.steps),
    lr: Number(values.lr),
    weight: Number(values.weight),
    text: values.text!,
  };
  checkAestheticSettings(settings, { steps: "--steps", lr: "--lr", weight: "--weight" });
  const model = values.model ?? DEFAULT_MODEL_DIR;
  const encoderPath = join(model, "text_encoder", "model.onnx");
  if (!existsSync(encoderPath)) throw new Error(`${model} has no text_encoder/model.onnx`);
  const clipSkip = Number(values["clip-skip"]);
  if (values.source !== "clip" && values.source !== "checkpoint") {
    throw new Error(`--source must be clip or checkpoint, got ${values.source}`);
  }
  const paths = values.embedding ?? [DEFAULT_EMBEDDING];
  const embeddings: { name: string; embedding: Embedding }[] = [];
  for (const path of paths) embeddings.push({ name: path, embedding: await readEmbedding(path) });
  const xl = existsSync(join(model, "text_encoder_2", "model.onnx"));
  const aesthetic = await AestheticSession.open({
    modelDir: model,
    // SDXL's second encoder needs no pair: a missing one matters only for an embedding of the first's width.
    clipDir: values.clip ?? await clipDirFor(model).catch((e) => {
      if (xl) return undefined;
      throw e;
    }),
    clipSkip,
    source: values.source,
    session,
  });
  try {
    if (xl) {
      report(
        await personalizeXl(model, values.prompt!, embeddings, aesthetic, settings, session),
        values.json!,
      );
      return 0;
    }
    if (embeddings.length > 1) throw new Error("SD 1.x and 2.x take one --embedding (SDXL one per encoder)");
    const embedding = embeddings[0].embedding;
    const encoder = await ClipTextEncoder.open(model, session, { clipSkip: clipSkip === 2 });
    const { chunks } = promptChunks(values.prompt!, aesthetic.tokenizer);
    const encode = encoder.chunkEncoder(clipSkip === 2 ? "clip_skip" : "last");
    const { data: z, chunkIds } = await encodeChunks(chunks, encode, { weighted: false });
    const result = await aesthetic.apply(z, chunkIds, embedding, settings);
    report({
      similarity: result.similarity[0] ?? [],
      similarity_per_chunk: result.similarity,
      conditioning_delta_l2: result.deltaL2,
      dims: { embedding: aesthetic.embedDim, hidden: aesthetic.hiddenSize },
      chunks: chunks.length,
      steps: settings.steps,
      lr: settings.lr,
    }, values.json!);
  } finally {
    await aesthetic.release();
  }
  return 0;
}

/** SDXL: both encoders' conditioning of the prompt through the session's hook (each encoder's chunks in turn). */
async function personalizeXl(
  model: string,
  prompt: string,
  embeddings: { name: string; embedding: Embedding }[],
  aesthetic: AestheticSession,
  settings: AestheticSettings,
  session: ReturnType<typeof sessionOptions>,
): Promise<Report> {
  const [tokenizer2, textEncoder, textEncoder2] = await Promise.all([
    ClipTokenizer.load(join(model, "tokenizer_2")),
    ClipTextEncoder.open(join(model, "text_encoder", "model.onnx"), session),
    ClipTextEncoder.open(join(model, "text_encoder_2", "model.onnx"), session),
  ]);
  try {
    const e = await encodeXl(
      { tokenizer: aesthetic.tokenizer, textEncoder, tokenizer2, textEncoder2 },
      prompt,
      false,
    );
    let similarity: number[][] = [];
    const hook = aesthetic.hook(embeddings, settings, { onSimilarity: (s) => similarity = s });
    const out = hook
      ? asHooked(await hook.hook({ ...e, chunkIds: e.encoders[0].chunkIds, negative: false })).z
      : e.z;
    return {
      similarity: similarity[0] ?? [],
      similarity_per_chunk: similarity,
      conditioning_delta_l2: Math.hypot(...out.map((v, i) => v - e.z[i])),
      dims: {
        embedding: embeddings.map((x) => x.embedding.data.length),
        hidden: e.z.length / (77 * e.encoders[0].chunkIds.length),
      },
      chunks: e.encoders[0].chunkIds.length,
      steps: settings.steps,
      lr: settings.lr,
    };
  } finally {
    await Promise.all([textEncoder.release(), textEncoder2.release()]);
  }
}

interface Report {
  similarity: number[];
  similarity_per_chunk: number[][];
  conditioning_delta_l2: number;
  /** SDXL: each embedding's width, in the order given. */
  dims: { embedding: number | number[]; hidden: number };
  chunks: number;
  steps: number;
  lr: number;
}

function report(r: Report, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(r));
    return;
  }
  r.similarity.forEach((s, i) => console.log(`step ${String(i).padStart(3)}  similarity ${s.toFixed(6)}`));
  console.log(`conditioning change (L2): ${r.conditioning_delta_l2.toFixed(6)}`);
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`personalize: ${(e as Error).message}`);
    Deno.exit(2);
  }
}
